/**
 * Issue 9 item 3: the SIGKILL storm. The four services run as separate processes on one engine under a steady
 * stream of orders; every few seconds one of them, chosen by a seeded sequence, is SIGKILLed and restarted. At
 * the end every accepted order must be final and the services' databases must agree (no event lost, no effect
 * twice). Clients retry with the same `Idempotency-Key`, as a client of a real shop would when the order
 * service dies mid-request. The figures go to `test-artifacts/reliability/` only once every invariant held, and
 * `docs/reliability.md` quotes them. Bounded in count and time; stops by itself.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../src/runtime/config.ts';
import type { ServiceName } from '../../src/runtime/spawn-service.ts';
import type { Engine } from './engines.ts';
import { SERVICE_NAMES, type Shop } from './shop-harness.ts';
import { assertConsistent, newShop, skipReason, waitUntilSettled, type OrderState } from './shop-scenario.ts';

/** Options of {@link describeSigkillStorm}. */
export interface StormOptions {
  readonly engine: Engine;
  /** How long the storm blows. Default `HERALD_STORM_SECONDS` or 45 s. */
  readonly seconds?: number;
  /** Orders per second offered. Default 8. */
  readonly ordersPerSecond?: number;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded sequence (a linear congruential generator), so a storm's kill order is reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

/** Baskets cycled by the load: most confirm, laptops over the limit are declined, LE-707 runs out. */
const BASKETS: { sku: string; quantity: number }[][] = [
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

/**
 * Places order `n` (one of six baskets, cycled), retrying every 200 ms with the same idempotency key until the
 * order service answers 202 (or 200 for a replay); `tries` counts the attempts. Fails on a 4xx, or once
 * `deadline` (epoch ms) has passed.
 */
export async function placeOrder(
  shop: Shop,
  n: number,
  deadline: number,
): Promise<{ id: string; tries: number }> {
  const body = JSON.stringify({ userId: `storm-${n}`, items: BASKETS[n % BASKETS.length] });
  for (let tries = 1; ; tries++) {
    try {
      const response = await fetch(`${shop.orderUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `storm-order-${n}` },
        body,
        signal: AbortSignal.timeout(5000),
      });
      if (response.status === 202 || response.status === 200) {
        return { id: ((await response.json()) as { orderId: string }).orderId, tries };
      }
      assert.ok(response.status >= 500, `order ${n}: ${response.status} ${await response.text()}`);
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      // The order service is down or died mid-request: retry with the same key.
    }
    if (Date.now() > deadline) assert.fail(`order ${n} not accepted after ${tries} tries`);
    await sleep(200);
  }
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

/** Writes `figures` to `test-artifacts/reliability/<name>.json`; call it only once every invariant held. */
export function writeFigures(name: string, figures: object): void {
  const dir = join(REPO_ROOT, 'test-artifacts', 'reliability');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}

/** Registers the storm for one engine. */
export async function describeSigkillStorm(options: StormOptions): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.HERALD_STORM_SECONDS ?? 45);
  const rate = options.ordersPerSecond ?? 8;
  const skip = await skipReason({ engine: options.engine });
  const title = `SIGKILL storm on ${options.engine.name}: ${seconds} s of orders, a service killed every 2-4 s`;
  describe(title, { timeout: (seconds + 240) * 1000, ...(skip === undefined ? {} : { skip }) }, () => {
    it('settles every accepted order, and the services agree: nothing lost, nothing twice', async () => {
      const shop = await newShop({ engine: options.engine });
      try {
        await shop.startAll();
        const random = seeded(Number(process.env.HERALD_STORM_SEED ?? 42));
        const startedAt = Date.now();
        const endAt = startedAt + seconds * 1000;
        const kills = new Map<ServiceName, number>(SERVICE_NAMES.map((name) => [name, 0]));

        // Restarts run in the background, so a second service may die while the first comes back.
        const restarting = new Map<ServiceName, Promise<unknown>>();
        const killer = (async () => {
          while (Date.now() < endAt) {
            await sleep(2000 + Math.floor(random() * 2000));
            if (Date.now() >= endAt) break;
            const victim = SERVICE_NAMES[Math.floor(random() * SERVICE_NAMES.length)]!;
            if (restarting.has(victim)) continue;
            await shop.kill(victim);
            kills.set(victim, kills.get(victim)! + 1);
            const back = sleep(200 + Math.floor(random() * 800))
              .then(() => shop.start(victim))
              .finally(() => restarting.delete(victim));
            restarting.set(victim, back);
          }
          await Promise.all(restarting.values());
        })();

        const placed: Promise<{ id: string; tries: number }>[] = [];
        for (let n = 0; Date.now() < endAt; n++) {
          placed.push(placeOrder(shop, n, endAt + 60_000));
          await sleep(1000 / rate);
        }
        await killer;
        const accepted = await Promise.all(placed);
        const ids = accepted.map((a) => a.id);
        assert.equal(new Set(ids).size, ids.length, 'each idempotency key made one order');

        const states: Map<string, OrderState> = await waitUntilSettled(shop, ids);
        await assertConsistent(shop, ids, states, { unknownNotificationsAllowed: true });

        // Sent at most once: the log sender's lines, across every restart of the notification service.
        const sends = notificationSends(shop);
        const sentTwice = [...sends].filter(([, n]) => n > 1);
        assert.deepEqual(sentTwice, [], 'no notification sent twice');
        const unknown = await shop.reader.all<{ n: number | string }>(
          'notification',
          "SELECT count(*) AS n FROM notifications WHERE status = 'unknown'",
        );
        const figures = {
          engine: options.engine.name,
          seconds,
          ordersAccepted: ids.length,
          confirmed: [...states.values()].filter((s) => s.status === 'CONFIRMED').length,
          cancelled: [...states.values()].filter((s) => s.status === 'CANCELLED').length,
          kills: Object.fromEntries(kills),
          totalKills: [...kills.values()].reduce((a, b) => a + b, 0),
          clientRetries: accepted.reduce((sum, a) => sum + a.tries - 1, 0),
          notificationsSent: sends.size,
          notificationsUnknownAfterKill: Number(unknown[0]!.n),
          at: new Date().toISOString(),
        };
        writeFigures(`sigkill-storm-${options.engine.name}`, figures);
        assert.ok(
          figures.totalKills >= Math.floor(seconds / 8),
          `the storm killed ${figures.totalKills} times`,
        );
      } catch (error) {
        console.error(shop.tail(120));
        throw error;
      }
    });
  });
}
