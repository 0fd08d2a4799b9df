/**
 * The end-to-end scenario every engine runs: 30 orders over HTTP must all settle with the right outcome, six bad
 * requests must create nothing, and the services' own databases must agree. Then the same again while the
 * payment service is killed with SIGKILL and restarted mid-run. Also the scale-out run: three payment instances
 * in one group, one of them killed mid-run.
 *
 * Waits are bounds on asynchronous outcomes, never speed assertions.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CATALOGUE } from '../../src/contracts/index.ts';
import type { Engine } from './engines.ts';
import { killLeftovers, Shop, type ShopOptions } from './shop-harness.ts';
import { ADMIN_DATABASE_URL, postgresReachable } from './state.ts';

type Outcome = 'CONFIRMED' | 'payment declined' | 'out of stock' | 'payment declined|out of stock';

interface PlannedOrder {
  readonly items: { sku: string; quantity: number }[];
  readonly expect: Outcome;
}

/**
 * 30 orders whose outcomes do not depend on timing: normal orders never compete for scarce stock, orders over
 * the limit use stock nobody else needs (so they reserve, then release), and out-of-stock orders ask for more
 * LE-707 than exists (so they are charged, then refunded).
 */
export const PLAN: PlannedOrder[] = [
  ...Array.from({ length: 18 }, (_, i): PlannedOrder => {
    const baskets = [
      [{ sku: 'KB-101', quantity: 1 }],
      [
        { sku: 'MS-202', quantity: 2 },
        { sku: 'CB-606', quantity: 3 },
      ],
      [{ sku: 'HP-505', quantity: 1 }],
      [
        { sku: 'MN-303', quantity: 1 },
        { sku: 'KB-101', quantity: 1 },
      ],
      [{ sku: 'CB-606', quantity: 10 }],
      [{ sku: 'MS-202', quantity: 1 }],
    ];
    return { items: baskets[i % baskets.length]!, expect: 'CONFIRMED' };
  }),
  ...Array.from({ length: 5 }, (): PlannedOrder => ({
    items: [{ sku: 'LT-404', quantity: 4 }],
    expect: 'payment declined',
  })),
  { items: [{ sku: 'HP-505', quantity: 21 }], expect: 'payment declined' },
  { items: [{ sku: 'LE-707', quantity: 6 }], expect: 'out of stock' },
  { items: [{ sku: 'LE-707', quantity: 11 }], expect: 'out of stock' },
  {
    items: [
      { sku: 'KB-101', quantity: 1 },
      { sku: 'LE-707', quantity: 10 },
    ],
    expect: 'out of stock',
  },
  { items: [{ sku: 'LE-707', quantity: 7 }], expect: 'out of stock' },
  { items: [{ sku: 'LE-707', quantity: 8 }], expect: 'out of stock' },
  { items: [{ sku: 'LE-707', quantity: 20 }], expect: 'payment declined|out of stock' },
];

/** Requests that must be refused with 400 problem+json and create nothing. */
const INVALID: { name: string; body: string }[] = [
  { name: 'unknown sku', body: JSON.stringify({ userId: 'u', items: [{ sku: 'NOPE-000', quantity: 1 }] }) },
  { name: 'missing userId', body: JSON.stringify({ items: [{ sku: 'KB-101', quantity: 1 }] }) },
  { name: 'zero quantity', body: JSON.stringify({ userId: 'u', items: [{ sku: 'KB-101', quantity: 0 }] }) },
  {
    name: 'quantity as string',
    body: JSON.stringify({ userId: 'u', items: [{ sku: 'KB-101', quantity: '2' }] }),
  },
  { name: 'no items', body: JSON.stringify({ userId: 'u', items: [] }) },
  { name: 'not JSON', body: '{"userId": "u", "items": [' },
];

const SETTLE_TIMEOUT_MS = 45_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function postOrder(shop: Shop, body: string): Promise<Response> {
  return fetch(`${shop.orderUrl}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

export interface OrderState {
  status: string;
  reason?: string;
  amount: number;
  history: { type: string; eventId: string }[];
}

async function refuseInvalid(shop: Shop): Promise<void> {
  for (const { name, body } of INVALID) {
    const response = await postOrder(shop, body);
    assert.equal(response.status, 400, name);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
    const problem = (await response.json()) as { status: number; detail: string };
    assert.equal(problem.status, 400);
    if (name === 'unknown sku') assert.match(problem.detail, /NOPE-000/);
  }
}

/** Places orders `from` to `to` of the plan, five at a time; resolves with their ids. */
async function place(shop: Shop, from: number, to: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < to; i += 5) {
    const chunk = PLAN.slice(i, Math.min(i + 5, to));
    const responses = await Promise.all(
      chunk.map((order, j) =>
        postOrder(shop, JSON.stringify({ userId: `user-${i + j}`, items: order.items })),
      ),
    );
    for (const response of responses) {
      assert.equal(response.status, 202);
      const body = (await response.json()) as { orderId: string; status: string };
      assert.equal(body.status, 'PENDING');
      assert.equal(response.headers.get('location'), `/orders/${body.orderId}`);
      ids.push(body.orderId);
    }
  }
  return ids;
}

/** Resolves once `done()` holds, polling; fails after the settle timeout with `what` and the output's tail. */
async function until(shop: Shop, what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${shop.tail()}`);
    await sleep(5);
  }
}

/** The number of payments the payment service has recorded (read from its database). */
async function paymentsRecorded(shop: Shop): Promise<number> {
  const [row] = await shop.reader.all<{ n: number | string }>(
    'payment',
    'SELECT count(*) AS n FROM payments',
  );
  return Number(row!.n);
}

export async function waitUntilSettled(shop: Shop, ids: string[]): Promise<Map<string, OrderState>> {
  const states = new Map<string, OrderState>();
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    for (const id of ids) {
      if (states.get(id)?.status === 'CONFIRMED' || states.get(id)?.status === 'CANCELLED') continue;
      const response = await fetch(`${shop.orderUrl}/orders/${id}`);
      assert.equal(response.status, 200);
      states.set(id, (await response.json()) as OrderState);
    }
    const pending = ids.filter((id) => states.get(id)!.status === 'PENDING');
    if (pending.length === 0) return states;
    if (Date.now() > deadline) {
      assert.fail(`${pending.length} order(s) still PENDING after ${SETTLE_TIMEOUT_MS} ms\n${shop.tail()}`);
    }
    await sleep(100);
  }
}

async function currentStates(shop: Shop, ids: string[]): Promise<Map<string, OrderState>> {
  const states = new Map<string, OrderState>();
  for (const id of ids)
    states.set(id, (await (await fetch(`${shop.orderUrl}/orders/${id}`)).json()) as OrderState);
  return states;
}

function assertOutcomes(ids: string[], states: Map<string, OrderState>): void {
  PLAN.forEach((planned, i) => {
    const state = states.get(ids[i]!)!;
    if (planned.expect === 'CONFIRMED') {
      assert.equal(state.status, 'CONFIRMED', `order ${i} ${JSON.stringify(state)}`);
      assert.equal(state.reason, undefined);
    } else {
      assert.equal(state.status, 'CANCELLED', `order ${i} ${JSON.stringify(state)}`);
      const allowed = planned.expect.split('|');
      assert.ok(
        allowed.some((prefix) => state.reason?.startsWith(`${prefix}:`)),
        `order ${i} reason ${state.reason}`,
      );
    }
  });
}

/** Options of {@link inconsistencies}. */
export interface ConsistencyOptions {
  /**
   * A notification may be `unknown`: its service was killed between claiming and sending it, and it is never
   * sent twice rather than risk a duplicate (at most once). For tests that SIGKILL the notification service.
   */
  readonly unknownNotificationsAllowed?: boolean;
  /**
   * Orders the order service never took: a test published their `OrderPlaced` itself. Payment may have declined
   * them (a payment row, no money moved); nothing else may hold anything for them.
   */
  readonly foreignOrderIds?: readonly string[];
}

/** Reads the four services' databases and lists every disagreement (empty when consistent). */
export async function inconsistencies(
  shop: Shop,
  ids: string[],
  states: Map<string, OrderState>,
  options: ConsistencyOptions = {},
): Promise<string[]> {
  const problems: string[] = [];
  const confirmed = new Set(ids.filter((id) => states.get(id)!.status === 'CONFIRMED'));
  const cancelled = new Set(ids.filter((id) => states.get(id)!.status === 'CANCELLED'));
  const { reader } = shop;

  // Inventory: no stock lost, confirmed orders hold their reservation, cancelled ones hold none.
  const levels = await reader.all<{ sku: string; available: number; reserved: number }>(
    'inventory',
    'SELECT sku, available, reserved FROM stock',
  );
  const reservations = new Map(
    (
      await reader.all<{
        order_id: string;
        status: string;
        items: string | { sku: string; quantity: number }[];
      }>('inventory', 'SELECT order_id, status, items FROM reservations')
    ).map((r) => [r.order_id, r]),
  );
  const heldBySku = new Map<string, number>();
  for (const r of reservations.values()) {
    if (r.status !== 'reserved') continue;
    const items =
      typeof r.items === 'string' ? (JSON.parse(r.items) as { sku: string; quantity: number }[]) : r.items;
    for (const item of items) heldBySku.set(item.sku, (heldBySku.get(item.sku) ?? 0) + item.quantity);
  }
  for (const product of CATALOGUE) {
    const level = levels.find((l) => l.sku === product.sku);
    if (level === undefined) {
      problems.push(`inventory: no stock row for ${product.sku}`);
      continue;
    }
    const initialStock = shop.initialStockOf(product);
    if (level.available + level.reserved !== initialStock || level.available < 0) {
      problems.push(
        `inventory: ${product.sku} available ${level.available} + reserved ${level.reserved} != ${initialStock}`,
      );
    }
    if (level.reserved !== (heldBySku.get(product.sku) ?? 0)) {
      problems.push(
        `inventory: ${product.sku} reserved ${level.reserved} but reservations hold ${heldBySku.get(product.sku) ?? 0}`,
      );
    }
  }
  for (const id of confirmed) {
    if (reservations.get(id)?.status !== 'reserved')
      problems.push(`inventory: confirmed ${id} is ${reservations.get(id)?.status}`);
  }
  for (const id of cancelled) {
    const status = reservations.get(id)?.status;
    if (status !== 'released' && status !== 'rejected')
      problems.push(`inventory: cancelled ${id} is ${status}`);
  }

  // Payment: nothing charged twice, refunds exactly for charged cancelled orders, confirmed orders paid.
  const ledger = (
    await reader.all<{ order_id: string; kind: 'charge' | 'refund'; amount_cents: number | string }>(
      'payment',
      'SELECT order_id, kind, amount_cents FROM ledger',
    )
  ).map((e) => ({ ...e, amount_cents: Number(e.amount_cents) }));
  const count = (kind: string, id: string) =>
    ledger.filter((e) => e.kind === kind && e.order_id === id).length;
  for (const id of ids) {
    if (count('charge', id) > 1) problems.push(`payment: ${id} charged ${count('charge', id)} times`);
    if (count('refund', id) > 1) problems.push(`payment: ${id} refunded ${count('refund', id)} times`);
  }
  for (const id of confirmed) {
    if (count('charge', id) !== 1 || count('refund', id) !== 0)
      problems.push(`payment: confirmed ${id} charge/refund wrong`);
  }
  for (const id of cancelled) {
    if (count('refund', id) !== count('charge', id))
      problems.push(`payment: cancelled ${id} charged but not refunded`);
  }
  const charged = ledger.filter((e) => e.kind === 'charge').reduce((sum, e) => sum + e.amount_cents, 0);
  const refunded = ledger.filter((e) => e.kind === 'refund').reduce((sum, e) => sum + e.amount_cents, 0);
  const confirmedCents = [...confirmed].reduce(
    (sum, id) => sum + Math.round(states.get(id)!.amount * 100),
    0,
  );
  if (charged - refunded !== confirmedCents) {
    problems.push(`payment: kept ${charged - refunded} cents, confirmed orders total ${confirmedCents}`);
  }
  const foreign = new Set(options.foreignOrderIds ?? []);
  const allPayments = await reader.all<{ order_id: string; status: string }>(
    'payment',
    'SELECT order_id, status FROM payments',
  );
  const payments = allPayments.filter((p) => !foreign.has(p.order_id));
  if (payments.length !== ids.length)
    problems.push(`payment: ${payments.length} payments for ${ids.length} orders`);
  for (const p of allPayments.filter((p) => foreign.has(p.order_id) && p.status !== 'declined'))
    problems.push(`payment: foreign order ${p.order_id} is ${p.status}, not declined`);
  for (const e of ledger.filter((e) => foreign.has(e.order_id)))
    problems.push(`payment: foreign order ${e.order_id} has a ${e.kind} in the ledger`);
  for (const id of foreign) {
    if (reservations.has(id)) problems.push(`inventory: foreign order ${id} has a reservation`);
  }

  // Notification: exactly one per order, with its outcome, sent.
  const notes = await reader.all<{ order_id: string; outcome: string; status: string }>(
    'notification',
    'SELECT order_id, outcome, status FROM notifications',
  );
  for (const id of ids) {
    const mine = notes.filter((n) => n.order_id === id);
    const want = confirmed.has(id) ? 'confirmed' : 'cancelled';
    const statusOk =
      mine[0]?.status === 'sent' ||
      (options.unknownNotificationsAllowed === true && mine[0]?.status === 'unknown');
    if (mine.length !== 1 || mine[0]!.outcome !== want || !statusOk) {
      problems.push(`notification: ${id} has ${JSON.stringify(mine)}, want one sent "${want}"`);
    }
  }
  for (const n of notes.filter((n) => foreign.has(n.order_id)))
    problems.push(`notification: foreign order ${n.order_id} was notified`);
  if (notes.length !== ids.length)
    problems.push(`notification: ${notes.length} notifications for ${ids.length} orders`);

  // Order: each event moved an order once (a redelivered event is not in the history twice).
  const duplicates = await reader.all(
    'order',
    'SELECT order_id, type, count(*) AS n FROM order_history GROUP BY order_id, type HAVING count(*) > 1',
  );
  if (duplicates.length > 0) problems.push(`order: history repeats events ${JSON.stringify(duplicates)}`);
  const [refundsSeen] = await reader.all<{ n: number | string }>(
    'order',
    "SELECT count(*) AS n FROM orders WHERE payment = 'refunded'",
  );
  const refundCount = ledger.filter((e) => e.kind === 'refund').length;
  if (Number(refundsSeen!.n) !== refundCount)
    problems.push(`order: ${refundsSeen!.n} orders know of a refund, ledger has ${refundCount}`);
  const [releasesSeen] = await reader.all<{ n: number | string }>(
    'order',
    "SELECT count(*) AS n FROM orders WHERE stock = 'released'",
  );
  const releaseCount = [...reservations.values()].filter((r) => r.status === 'released').length;
  if (Number(releasesSeen!.n) !== releaseCount)
    problems.push(`order: ${releasesSeen!.n} orders know of a release, inventory made ${releaseCount}`);
  return problems;
}

/** Compensations and notifications follow the final status: waits for the databases to agree, within a bound. */
export async function assertConsistent(
  shop: Shop,
  ids: string[],
  states: Map<string, OrderState>,
  options: ConsistencyOptions = {},
): Promise<void> {
  let problems: string[];
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    problems = await inconsistencies(shop, ids, states, options);
    if (problems.length === 0 || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.deepEqual(problems, [], `inconsistent after ${SETTLE_TIMEOUT_MS} ms\n${shop.tail()}`);
}

/** The outcome of each planned order, as the test compares runs. */
function outcomes(ids: string[], states: Map<string, OrderState>): string[] {
  return ids.map((id, i) => {
    const state = states.get(id)!;
    const expect = PLAN[i]!.expect;
    if (state.status === 'CONFIRMED') return 'CONFIRMED';
    // Both failures apply to the "either" order; which one comes first is a race, and either is right.
    return expect.includes('|') ? `CANCELLED: ${expect}` : `CANCELLED: ${state.reason?.split(':')[0]}`;
  });
}

async function assertStopsCleanly(shop: Shop): Promise<void> {
  const exits = await shop.stopAll();
  assert.deepEqual(
    exits,
    exits.map(() => 0),
    `every service stops cleanly on SIGTERM\n${shop.tail()}`,
  );
}

/** One shop run: the plan, optionally with the payment service SIGKILLed mid-run; resolves with the outcomes. */
async function runShop(shop: Shop, options: { killPaymentMidRun: boolean }): Promise<string[]> {
  try {
    await shop.startAll();
    await refuseInvalid(shop);

    let ids: string[];
    if (options.killPaymentMidRun) {
      // Kill it while it is busy: 15 orders in, as soon as it has handled a few of them.
      const first = place(shop, 0, 15);
      await until(shop, 'payment to record 3 payments', async () => (await paymentsRecorded(shop)) >= 3);
      await shop.kill('payment-service');
      ids = await first;
      ids.push(...(await place(shop, 15, PLAN.length)));
      await shop.start('payment-service');
    } else {
      ids = await place(shop, 0, PLAN.length);
    }

    const settled = await waitUntilSettled(shop, ids);
    assertOutcomes(ids, settled);
    await assertConsistent(shop, ids, settled);
    // Consistent means every compensation reached the order service too: these are the final histories.
    const states = await currentStates(shop, ids);

    const list = (await (await fetch(`${shop.orderUrl}/orders?limit=500`)).json()) as unknown[];
    assert.equal(list.length, PLAN.length, 'the 400s created no order');
    await assertStopsCleanly(shop);

    if (!options.killPaymentMidRun) {
      // Durable state: a restarted order service still has every order, as it was.
      await shop.start('order-service');
      for (const id of ids) {
        const state = (await (await fetch(`${shop.orderUrl}/orders/${id}`)).json()) as OrderState;
        assert.equal(state.status, states.get(id)!.status);
        assert.deepEqual(
          state.history.map((h) => h.eventId),
          states.get(id)!.history.map((h) => h.eventId),
        );
      }
      assert.deepEqual(await shop.stopAll(), [0]);
    }
    return outcomes(ids, states);
  } catch (error) {
    console.error(shop.tail());
    throw error;
  }
}

/** Options of {@link describeShopEndToEnd}. */
export interface EndToEndOptions {
  readonly engine: Engine;
  /** State in PostgreSQL instead of SQLite files. */
  readonly postgres?: boolean;
  /** Bound of the suite, ms. Default 120 s for the two shop runs of the end-to-end suite, 90 s for scale-out. */
  readonly timeoutMs?: number;
}

/** Skips (or, under CI=true, fails) when the engine or PostgreSQL cannot be reached; returns why it skips. */
export async function skipReason(options: EndToEndOptions): Promise<string | undefined> {
  const reason = await options.engine.unreachable();
  if (reason !== undefined) return reason;
  if (options.postgres === true) {
    if (!(await postgresReachable())) {
      if (process.env.CI === 'true')
        throw new Error(
          `PostgreSQL is not reachable at ${ADMIN_DATABASE_URL} (CI=true: failing, not skipping)`,
        );
      return `PostgreSQL is not reachable at ${ADMIN_DATABASE_URL}`;
    }
  }
  return undefined;
}

const shops: Shop[] = [];
after(async () => {
  await killLeftovers();
  for (const shop of shops) await shop.dispose();
});

/** A shop on `engine`, disposed of when the file ends. */
export async function newShop(options: EndToEndOptions & ShopOptions): Promise<Shop> {
  const shop = await Shop.create(options);
  shops.push(shop);
  return shop;
}

/** Registers the end-to-end scenario for one engine (and state backend). */
export async function describeShopEndToEnd(options: EndToEndOptions): Promise<void> {
  const state = options.postgres === true ? 'PostgreSQL state' : 'SQLite state';
  const title = `shop end to end on ${options.engine.name} (four processes, ${state})`;
  const skip = await skipReason(options);
  describe(title, { timeout: options.timeoutMs ?? 120_000, ...(skip === undefined ? {} : { skip }) }, () => {
    let baseline: string[] | undefined;

    it('settles 30 orders with the right outcomes, and the services agree', async () => {
      baseline = await runShop(await newShop(options), { killPaymentMidRun: false });
    });

    it('reaches the same final state when the payment service is SIGKILLed and restarted mid-run', async () => {
      const outcomesAfterKill = await runShop(await newShop(options), { killPaymentMidRun: true });
      if (baseline !== undefined) assert.deepEqual(outcomesAfterKill, baseline);
    });
  });
}

/** Registers the scale-out scenario: three payment instances in one group, one SIGKILLed mid-run. */
export async function describeScaleOut(options: EndToEndOptions): Promise<void> {
  const state = options.postgres === true ? 'one PostgreSQL schema' : 'one SQLite file';
  const title = `scale out on ${options.engine.name}: three payment instances sharing ${state}`;
  const skip = await skipReason(options);
  describe(title, { timeout: options.timeoutMs ?? 90_000, ...(skip === undefined ? {} : { skip }) }, () => {
    it('shares the work, survives a SIGKILLed instance, charges nothing twice and loses nothing', async (t) => {
      const shop = await newShop(options);
      const instances = ['payment-service', 'payment-service#2', 'payment-service#3'];
      const handled = (label: string) => shop.countOutput(label, /payment (charged|declined)/);
      try {
        await Promise.all([
          shop.start('order-service'),
          shop.start('inventory-service'),
          shop.start('notification-service'),
          ...instances.map((label) => shop.start('payment-service', label)),
        ]);
        const { groupBalanced } = options.engine;
        if (groupBalanced !== undefined) {
          const group = `${shop.topicPrefix}payment-service`;
          await until(shop, 'the three instances to share the partitions', () =>
            groupBalanced(shop.dataDir, group, instances.length),
          );
        }
        const victim = instances[1]!;
        const first = place(shop, 0, 15);
        // Kill an instance while it works: once it has handled an order itself.
        await until(shop, `${victim} to handle orders`, () => Promise.resolve(handled(victim) >= 1));
        await shop.kill(victim);
        const ids = await first;
        ids.push(...(await place(shop, 15, PLAN.length)));

        const states = await waitUntilSettled(shop, ids);
        assertOutcomes(ids, states);
        await assertConsistent(shop, ids, states);
        // Every instance did part of the work (the victim before it died), and the payments they recorded
        // are one per order: the instances share one state.
        const counts = instances.map(handled);
        t.diagnostic(`payments handled per instance (the second one SIGKILLed): ${counts.join(', ')}`);
        assert.ok(
          counts.every((n) => n > 0),
          `work shared by all three instances: ${JSON.stringify(counts)}\n${shop.tail()}`,
        );
        assert.equal(await paymentsRecorded(shop), PLAN.length, 'one payment per order');
        await assertStopsCleanly(shop);
      } catch (error) {
        console.error(shop.tail());
        throw error;
      }
    });
  });
}
