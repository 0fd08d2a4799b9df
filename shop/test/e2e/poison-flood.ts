/**
 * Issue 9 item 3: a poison event and a flood of bad records on a running shop. While orders flow over HTTP at a
 * steady rate, the test publishes straight onto the shop's topics (the engine's own transport, the run's prefix):
 *
 * - one poison `OrderPlaced`: a valid envelope from the order service's source, data that passes the schema (two
 *   lines of 2^53 - 1 keyboards), but the inventory handler can never handle it (the summed quantity is no safe
 *   integer, so the `StockUnavailable` it must emit fails validation on every attempt);
 * - one event of a type no consumer knows (acked and counted as skipped, never dead-lettered: that is the
 *   router's documented behaviour, checked here too);
 * - several hundred schema-invalid events on the three consumed topics;
 * - malformed records: bytes with no CloudEvents attribute at all, and CloudEvents whose data is not JSON.
 *
 * Every bad record must reach the dead-letter queue of each group that consumes its topic, with its reason
 * (`validation`, `decode`), read back with the `herald` CLI's library (`listAll`, as `herald dlq list` does):
 * counted one by one, none lost and none twice. Every real order must still settle with every invariant held,
 * and the orders' settle latency during the flood is reported. The figures go to
 * `test-artifacts/reliability/poison-flood-<engine>.json` only once everything held.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { listAll } from '@herald/cli';
import type { DeadLetter, Transport, TransportRecord } from '@herald/core';
import {
  OrderConfirmed,
  OrderPlaced,
  PaymentCompleted,
  SERVICES,
  StockReserved,
} from '../../src/contracts/index.ts';
import type { Engine } from './engines.ts';
import { latencySummary, sleep, steadyLoad, writeFigures } from './order-load.ts';
import { scrapeAll, sumOf } from './service-probe.ts';
import type { Shop } from './shop-harness.ts';
import { orderServiceRecord, publishInBatches, shopTransport } from './shop-transport.ts';
import { assertConsistent, newShop, skipReason, waitUntilSettled } from './shop-scenario.ts';

/** Options of {@link describePoisonFlood}. */
export interface PoisonFloodOptions {
  readonly engine: Engine;
  /** Schema-invalid events on each consumed topic (orders, payments, inventory). Default 200, 100, 100. */
  readonly invalid?: { readonly orders: number; readonly payments: number; readonly inventory: number };
  /** Malformed records of each kind. Default 10. */
  readonly malformed?: number;
  /** Orders per second offered throughout. Default 8. */
  readonly ordersPerSecond?: number;
}

const GROUPS = {
  order: SERVICES.order.group,
  payment: SERVICES.payment.group,
  inventory: SERVICES.inventory.group,
  notification: SERVICES.notification.group,
} as const;

type Topic = 'orders' | 'payments' | 'inventory';

/** Who consumes each topic the flood writes to (see `SUBSCRIPTIONS` in `engines.ts`): all of them decode it. */
const CONSUMERS: Record<Topic, readonly string[]> = {
  orders: [GROUPS.payment, GROUPS.inventory, GROUPS.notification],
  payments: [GROUPS.order],
  inventory: [GROUPS.order],
};

/**
 * Who validates the schema-invalid events of each topic: the groups with a handler for their type. The
 * notification service has none for `OrderPlaced`, so it skips those (counted as `unknown-type`) unvalidated.
 */
const VALIDATORS: Record<Topic, readonly string[]> = {
  orders: [GROUPS.payment, GROUPS.inventory],
  payments: [GROUPS.order],
  inventory: [GROUPS.order],
};

/** A bad record the test published, and what each consuming group must make of it. */
interface Bad {
  /** How the test finds it in a dead-letter queue: its event id, or a marker in its bytes. */
  readonly mark: string;
  readonly record: TransportRecord;
  /** Group → the dead-letter reason expected there. */
  readonly expect: ReadonlyMap<string, string>;
}

/** The data of schema-invalid events: each breaks its schema a different way. */
const INVALID_DATA: Record<Topic, (n: number) => unknown> = {
  orders: (n) =>
    [
      { orderId: `bad-${n}`, userId: 'u', items: [], amountCents: 100 },
      { orderId: `bad-${n}`, userId: 'u', items: [{ sku: 'KB-101', quantity: -1, unitPriceCents: 1 }] },
      { orderId: '', userId: 'u', amount: 'a lot' },
      'not an object',
    ][n % 4],
  payments: (n) => ({ orderId: `bad-${n}`, paymentId: 7, amountCents: 1.5 }),
  inventory: (n) => ({ orderId: `bad-${n}`, items: [{ sku: 'KB-101', quantity: 0 }] }),
};

const DEFINITION = { orders: OrderPlaced, payments: PaymentCompleted, inventory: StockReserved } as const;

function expectAll(groups: readonly string[], reason: string): Map<string, string> {
  return new Map(groups.map((group) => [group, reason]));
}

/** The schema-invalid and malformed records of one run. */
function badRecords(invalid: Required<PoisonFloodOptions>['invalid'], malformed: number): Bad[] {
  const bad: Bad[] = [];
  for (const topic of ['orders', 'payments', 'inventory'] as const) {
    for (let n = 0; n < invalid[topic]; n++) {
      const { id, record } = orderServiceRecord(
        DEFINITION[topic],
        INVALID_DATA[topic](n),
        `bad-${topic}-${n}`,
      );
      bad.push({ mark: id, record, expect: expectAll(VALIDATORS[topic], 'validation') });
    }
  }
  for (let n = 0; n < malformed; n++) {
    // Not a CloudEvent at all: no attributes, bytes that are neither UTF-8 nor JSON.
    for (const topic of ['orders', 'payments'] as const) {
      const mark = `raw-${topic}-${n}-${randomUUID()}`;
      const data = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(mark)]);
      bad.push({
        mark,
        record: { topic, key: mark, attributes: {}, data },
        expect: expectAll(CONSUMERS[topic], 'decode'),
      });
    }
    // A CloudEvent whose JSON data is cut short.
    const { id, record } = orderServiceRecord(OrderConfirmed, null, `truncated-${n}`);
    const truncated = { ...record, data: Buffer.from('{"orderId": "truncated", "userId": ') };
    bad.push({ mark: id, record: truncated, expect: expectAll(CONSUMERS.orders, 'decode') });
  }
  return bad;
}

/** How a dead letter is matched to the bad record it came from. */
function markOf(letter: DeadLetter): string {
  return letter.record.attributes.id ?? Buffer.from(letter.record.data).subarray(3).toString('latin1');
}

/** Every dead letter of each group, read through the CLI's library until `expected` per group are there. */
async function deadLettersOf(
  transport: Transport,
  expected: ReadonlyMap<string, number>,
  timeoutMs: number,
): Promise<Map<string, DeadLetter[]>> {
  const queue = transport.deadLetters;
  assert.ok(queue !== undefined, `${transport.name} keeps no dead-letter queue`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = new Map<string, DeadLetter[]>();
    for (const group of expected.keys()) found.set(group, await listAll(queue, { group }));
    const short = [...expected].filter(([group, n]) => found.get(group)!.length < n);
    if (short.length === 0 || Date.now() > deadline) return found;
    await sleep(500);
  }
}

/** The summed value of one counter over every instance's `/metrics`, by group (labels narrowed by `where`). */
async function counterByGroup(
  shop: Shop,
  name: string,
  where: Record<string, string>,
): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const samples of (await scrapeAll(shop)).values()) {
    for (const group of Object.values(GROUPS)) {
      const n = sumOf(samples, name, { ...where, group });
      if (n > 0) totals[group] = (totals[group] ?? 0) + n;
    }
  }
  return totals;
}

/** Registers the poison-and-flood test for one engine. */
export async function describePoisonFlood(options: PoisonFloodOptions): Promise<void> {
  const invalid = options.invalid ?? { orders: 200, payments: 100, inventory: 100 };
  const malformed = options.malformed ?? 10;
  const rate = options.ordersPerSecond ?? 8;
  const skip = await skipReason({ engine: options.engine });
  const total = invalid.orders + invalid.payments + invalid.inventory + 3 * malformed + 2;
  const title = `poison and flood on ${options.engine.name}: ${total} bad records published while orders flow`;
  describe(title, { timeout: 120_000, ...(skip === undefined ? {} : { skip }) }, () => {
    it('dead-letters each bad record once per consuming group with its reason, and every order settles', async () => {
      const shop = await newShop({ engine: options.engine });
      let transport: Transport | undefined;
      try {
        await shop.startAll();
        transport = await shopTransport(shop);

        const poisonOrderId = `poison-${randomUUID()}`;
        const poison = orderServiceRecord(
          OrderPlaced,
          {
            orderId: poisonOrderId,
            userId: 'poisoner',
            items: [
              { sku: 'KB-101', quantity: Number.MAX_SAFE_INTEGER, unitPriceCents: 0 },
              { sku: 'KB-101', quantity: Number.MAX_SAFE_INTEGER, unitPriceCents: 0 },
            ],
            // Over the payment limit: payment declines it, so no money moves for an order nobody placed.
            amountCents: 999_999_999,
          },
          poisonOrderId,
        );
        const unknownType = orderServiceRecord(
          { ...OrderPlaced, type: 'OrderGiftWrapped' },
          { orderId: 'gift' },
          'gift',
        );
        const bad: Bad[] = [
          { mark: poison.id, record: poison.record, expect: new Map([[GROUPS.inventory, 'validation']]) },
          ...badRecords(invalid, malformed),
        ];

        const floodAt = 3000;
        const startedAt = Date.now();
        let floodStart = 0;
        let floodPublished = 0;
        const flood = (async () => {
          await sleep(floodAt);
          floodStart = Date.now();
          await publishInBatches(transport, [unknownType.record, ...bad.map((b) => b.record)]);
          floodPublished = Date.now();
        })();
        const load = steadyLoad(shop, {
          ordersPerSecond: rate,
          until: () => Date.now() - startedAt > floodAt + 9000,
          deadline: Date.now() + 90_000,
          label: 'flood',
        });
        await flood;

        const expected = new Map<string, number>();
        for (const b of bad)
          for (const group of b.expect.keys()) expected.set(group, (expected.get(group) ?? 0) + 1);
        const letters = await deadLettersOf(transport, expected, 45_000);
        const drainedAt = Date.now();
        const { orders, latencies } = await load;

        // Each bad record is in the queue of each group that consumes it, once, with its reason.
        const problems: string[] = [];
        for (const [group, found] of letters) {
          const byMark = new Map<string, DeadLetter[]>();
          for (const letter of found)
            byMark.set(markOf(letter), [...(byMark.get(markOf(letter)) ?? []), letter]);
          for (const b of bad) {
            const reason = b.expect.get(group);
            if (reason === undefined) continue;
            const mine = byMark.get(b.mark) ?? [];
            if (mine.length !== 1) problems.push(`${group}: ${b.mark} dead-lettered ${mine.length} times`);
            else if (mine[0]!.failure.reason !== reason)
              problems.push(`${group}: ${b.mark} reason ${mine[0]!.failure.reason}, want ${reason}`);
            byMark.delete(b.mark);
          }
          for (const [mark, extra] of byMark)
            problems.push(`${group}: unexpected dead letter ${mark} (${extra[0]!.failure.reason})`);
        }
        assert.deepEqual(problems, [], 'every bad record dead-lettered once per consuming group');

        // The poison names what failed: the StockUnavailable it could not emit.
        const poisonLetter = letters
          .get(GROUPS.inventory)!
          .find((l) => l.record.attributes.id === poison.id)!;
        assert.match(poisonLetter.failure.error.message, /StockUnavailable/);
        assert.equal(poisonLetter.failure.error.code, 'HERALD_VALIDATION');
        for (const letter of letters.get(GROUPS.notification)!)
          assert.equal(letter.failure.error.code, 'HERALD_DECODE');

        // The event of an unknown type was skipped by each consumer of `orders`, never dead-lettered.
        const skipped = await counterByGroup(shop, 'herald_events_skipped_total', {
          type: 'OrderGiftWrapped',
          reason: 'unknown-type',
        });
        assert.deepEqual(skipped, { [GROUPS.payment]: 1, [GROUPS.inventory]: 1, [GROUPS.notification]: 1 });
        const deadLetteredMetric = await counterByGroup(shop, 'herald_events_dead_lettered_total', {});
        assert.deepEqual(
          deadLetteredMetric,
          Object.fromEntries(expected),
          'the metrics count every dead letter',
        );

        const ids = orders.map((o) => o.id);
        const states = await waitUntilSettled(shop, ids);
        await assertConsistent(shop, ids, states, { foreignOrderIds: [poisonOrderId] });

        const during = orders
          .map((o, i) => ({ o, latency: latencies[i]! }))
          .filter(({ o }) => o.acceptedAt >= floodStart && o.acceptedAt <= drainedAt)
          .map(({ latency }) => latency);
        const before = orders
          .map((o, i) => ({ o, latency: latencies[i]! }))
          .filter(({ o }) => o.acceptedAt < floodStart)
          .map(({ latency }) => latency);
        writeFigures(`poison-flood-${options.engine.name}`, {
          engine: options.engine.name,
          badRecordsPublished: bad.length + 1,
          schemaInvalid: invalid,
          malformed: { notCloudEvents: 2 * malformed, dataNotJson: malformed },
          deadLettersPerGroup: Object.fromEntries(expected),
          skippedUnknownType: skipped,
          publishMs: floodPublished - floodStart,
          allDeadLetteredMs: drainedAt - floodStart,
          orders: ids.length,
          confirmed: [...states.values()].filter((s) => s.status === 'CONFIRMED').length,
          cancelled: [...states.values()].filter((s) => s.status === 'CANCELLED').length,
          settleLatencyBeforeFloodMs: latencySummary(before),
          settleLatencyDuringFloodMs: latencySummary(during),
          ordersDuringFlood: during.length,
          at: new Date().toISOString(),
        });
      } catch (error) {
        console.error(shop.tail(120));
        throw error;
      } finally {
        await transport?.close();
      }
    });
  });
}
