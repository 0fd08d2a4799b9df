/**
 * The order load the system fault tests (SIGKILL storm, poison flood, overload, soak) put on a shop: orders
 * POSTed over HTTP at a steady rate, retried with one `Idempotency-Key` each as a real client would, and the time
 * each takes to settle. Also where the tests write their figures (`test-artifacts/reliability/`).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/runtime/config.ts';
import type { Shop } from './shop-harness.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Baskets cycled by the load: most confirm, laptops over the limit are declined, LE-707 runs out. */
export const BASKETS: readonly (readonly { sku: string; quantity: number }[])[] = [
  [{ sku: 'KB-101', quantity: 1 }],
  [
    { sku: 'MS-202', quantity: 1 },
    { sku: 'CB-606', quantity: 2 },
  ],
  [{ sku: 'LT-404', quantity: 4 }],
  [{ sku: 'HP-505', quantity: 1 }],
  [{ sku: 'LE-707', quantity: 1 }],
  [{ sku: 'MN-303', quantity: 1 }],
];

/** An order the order service accepted. */
export interface AcceptedOrder {
  readonly id: string;
  /** POSTs it took (1 when the first was answered). */
  readonly tries: number;
  /** When the order service accepted it (ms since the epoch). */
  readonly acceptedAt: number;
}

/**
 * Places order `n` (basket `n mod 6`, key `<label>-order-<n>`), retrying with the same idempotency key every
 * 200 ms while the order service is down or answers 5xx; fails on a 4xx or once `deadline` (ms since the epoch)
 * has passed.
 */
export async function placeOrder(
  shop: Shop,
  n: number,
  deadline: number,
  label = 'storm',
): Promise<AcceptedOrder> {
  const body = JSON.stringify({ userId: `${label}-${n}`, items: BASKETS[n % BASKETS.length] });
  for (let tries = 1; ; tries++) {
    try {
      const response = await fetch(`${shop.orderUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${label}-order-${n}` },
        body,
        signal: AbortSignal.timeout(5000),
      });
      if (response.status === 202 || response.status === 200) {
        const { orderId } = (await response.json()) as { orderId: string };
        return { id: orderId, tries, acceptedAt: Date.now() };
      }
      assert.ok(response.status >= 500, `order ${n}: ${response.status} ${await response.text()}`);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      // The order service is down, overloaded past the timeout, or died mid-request: retry with the same key.
    }
    if (Date.now() > deadline) assert.fail(`order ${n} not accepted after ${tries} tries`);
    await sleep(200);
  }
}

/**
 * Resolves with the milliseconds from `order.acceptedAt` until the order service shows the order CONFIRMED or
 * CANCELLED, polling every 50 ms (a poll that fails or takes over 5 s is repeated); fails once `deadline` has
 * passed.
 */
export async function settleLatency(shop: Shop, order: AcceptedOrder, deadline: number): Promise<number> {
  let status = 'unknown';
  for (;;) {
    try {
      const response = await fetch(`${shop.orderUrl}/orders/${order.id}`, {
        signal: AbortSignal.timeout(5000),
      });
      status = ((await response.json()) as { status: string }).status;
      if (status === 'CONFIRMED' || status === 'CANCELLED') return Date.now() - order.acceptedAt;
    } catch {
      // The order service did not answer in time (it is busy or restarting): ask again.
    }
    if (Date.now() > deadline) assert.fail(`order ${order.id} still ${status} at the deadline`);
    await sleep(50);
  }
}

/** The orders a steady load placed, and how long each took to settle where it was timed. */
export interface SteadyLoad {
  readonly orders: AcceptedOrder[];
  /** Settle latency (ms) of each order, in the order they were placed. */
  readonly latencies: number[];
}

/**
 * Places `ordersPerSecond` orders a second (without waiting for earlier ones) until `until()` is true, and times
 * how long each takes to settle. Resolves once every order is accepted and settled, within `deadline`.
 */
export async function steadyLoad(
  shop: Shop,
  options: { ordersPerSecond: number; until: () => boolean; deadline: number; label: string },
): Promise<SteadyLoad> {
  const placed: Promise<{ order: AcceptedOrder; latency: number }>[] = [];
  for (let n = 0; !options.until(); n++) {
    const one = placeOrder(shop, n, options.deadline, options.label).then(async (order) => ({
      order,
      latency: await settleLatency(shop, order, options.deadline),
    }));
    // Handled by the Promise.all below; this keeps an early failure from being an unhandled rejection meanwhile.
    one.catch(() => undefined);
    placed.push(one);
    await sleep(1000 / options.ordersPerSecond);
  }
  const settled = await Promise.all(placed);
  return { orders: settled.map((s) => s.order), latencies: settled.map((s) => s.latency) };
}

/** The `p`-th percentile (0-100, nearest rank) of `values`; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** p50, p95, p99 and max of latencies in ms. */
export function latencySummary(values: readonly number[]): Record<'p50' | 'p95' | 'p99' | 'max', number> {
  return {
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: percentile(values, 100),
  };
}

/** Writes `figures` as `test-artifacts/reliability/<name>.json` (call it only once every invariant held). */
export function writeFigures(name: string, figures: Record<string, unknown>): string {
  const dir = join(REPO_ROOT, 'test-artifacts', 'reliability');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(figures, null, 2)}\n`);
  return path;
}

/** How many times the notification service logged sending each order's notification, across its restarts. */
export function notificationSends(shop: Shop): Map<string, number> {
  const sends = new Map<string, number>();
  for (const line of shop.output) {
    const match = /"orderId":"([^"]+)"/.exec(line);
    if (line.startsWith('[notification-service]') && line.includes('"msg":"notify ') && match !== null)
      sends.set(match[1]!, (sends.get(match[1]!) ?? 0) + 1);
  }
  return sends;
}
