/**
 * Issue 9 item 3: overload. Clients POST orders as fast as the order service takes them for a while, far faster
 * than the saga (payment, inventory, the order service's own confirmation, notification) can settle them, so a
 * backlog builds up in the broker and in the outboxes. Meanwhile every service's resident memory is sampled from
 * `/proc/<pid>/status` every 500 ms, and the backlog: the groups' lag as the broker keeps it (see `brokerLag`)
 * plus the outbox rows not yet published (`herald_outbox_backlog` of each service's `/metrics`).
 *
 * Memory must stay bounded: a consumer holds at most its bounded prefetch (SQLite `fetchBatch`, Kafka fetch
 * bytes, RabbitMQ `prefetch` per partition, NATS flow limit) plus its handler concurrency in memory, never the
 * backlog, which stays in the broker and the outbox tables. So each service's peak RSS must stay under
 * {@link PEAK_RSS_BOUND_MIB}, and its RSS over the last third of the load (backlog largest) may exceed its RSS
 * over the first third by at most {@link GROWTH_BOUND_MIB}, whatever the backlog reached. Then the backlog must
 * drain to 0 and every order settle with every invariant held. Figures to
 * `test-artifacts/reliability/overload-<engine>.json`, written only once everything held.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Transport } from '@herald/core';
import { OrderPlaced } from '../../src/contracts/index.ts';
import type { Engine } from './engines.ts';
import { placeOrder, sleep, writeFigures, type AcceptedOrder } from './order-load.ts';
import { backlogOf, MemorySampler, type Backlog, type MemoryFigures } from './service-probe.ts';
import type { Shop } from './shop-harness.ts';
import { orderServiceRecord, publishInBatches, shopTransport } from './shop-transport.ts';
import { assertConsistent, newShop, skipReason, waitUntilSettled } from './shop-scenario.ts';

/**
 * A shop service is a Node process of about 100-150 MiB at rest (V8, Fastify, the broker client, SQLite). 384 MiB
 * leaves room for load (handler concurrency, fetched batches, GC lag) while still failing a process that keeps a
 * backlog of thousands of events in memory.
 */
export const PEAK_RSS_BOUND_MIB = 384;

/**
 * How much more memory a service may hold while the backlog is largest than while it was small. A consumer that
 * buffers the backlog grows with it (tens of MiB per thousand events fetched and decoded); a bounded one only
 * warms up (heap growth, JIT) by a few tens of MiB.
 */
export const GROWTH_BOUND_MIB = 96;

/** Options of {@link describeOverload}. */
export interface OverloadOptions {
  readonly engine: Engine;
  /** How long clients push orders. Default `HERALD_OVERLOAD_SECONDS` or 8. */
  readonly seconds?: number;
  /** Clients posting at once, each as fast as it is answered. Default 16. */
  readonly clients?: number;
  /**
   * `OrderPlaced` events published straight onto the `orders` topic over the load, on top of the POSTed orders:
   * the order service's HTTP side alone cannot outrun the saga by much. They are declined orders the order service
   * never took (the plain shape, over the payment limit, no items): payment declines each, inventory has nothing
   * to reserve, the order service ignores the outcome. Default `HERALD_OVERLOAD_EVENTS` or 1000.
   */
  readonly directEvents?: number;
  /** Bound on the drain after the load, ms. Default 90 s. */
  readonly drainTimeoutMs?: number;
}

/** Publishes a declined `OrderPlaced` (see {@link OverloadOptions.directEvents}) per id, in 20 even steps until `endAt`. */
async function publishEvenly(
  transport: Transport,
  orderIds: readonly string[],
  endAt: number,
): Promise<void> {
  const steps = 20;
  const stepMs = (endAt - Date.now()) / steps;
  const per = Math.ceil(orderIds.length / steps);
  for (let i = 0; i < orderIds.length; i += per) {
    const due = Date.now() + stepMs;
    const records = orderIds
      .slice(i, i + per)
      .map(
        (orderId) =>
          orderServiceRecord(OrderPlaced, { orderId, userId: 'direct', amount: '9999.99' }, orderId).record,
      );
    await publishInBatches(transport, records, 100);
    await sleep(Math.max(0, due - Date.now()));
  }
}

/** Samples the shop's backlog every `intervalMs` until stopped. */
function sampleBacklog(
  shop: Shop,
  intervalMs: number,
): { samples: (Backlog & { at: number })[]; stop(): void } {
  const samples: (Backlog & { at: number })[] = [];
  let running = true;
  void (async () => {
    while (running) {
      const at = Date.now();
      try {
        samples.push({ at, ...(await backlogOf(shop)) });
      } catch {
        // The broker or a service did not answer this time: no sample.
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - at)));
    }
  })();
  return {
    samples,
    stop: () => {
      running = false;
    },
  };
}

/** Waits until no group lags and no outbox holds a row (as `/metrics` says); resolves with when it was so. */
async function drained(shop: Shop, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const backlog = await backlogOf(shop).catch((error: unknown) => ({ lag: NaN, outbox: NaN, error }));
    if (backlog.lag === 0 && backlog.outbox === 0) return Date.now();
    if (Date.now() > deadline)
      assert.fail(`backlog not drained after ${timeoutMs} ms: ${JSON.stringify(backlog)}\n${shop.tail()}`);
    await sleep(250);
  }
}

/** Registers the overload test for one engine. */
export async function describeOverload(options: OverloadOptions): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.HERALD_OVERLOAD_SECONDS ?? 8);
  const clients = options.clients ?? 16;
  const directEvents = options.directEvents ?? Number(process.env.HERALD_OVERLOAD_EVENTS ?? 1000);
  const drainTimeoutMs = options.drainTimeoutMs ?? 90_000;
  const skip = await skipReason({ engine: options.engine });
  const title = `overload on ${options.engine.name}: ${clients} clients post orders as fast as accepted for ${seconds} s`;
  describe(title, { timeout: (seconds + 150) * 1000, ...(skip === undefined ? {} : { skip }) }, () => {
    it('keeps every service under its memory bound, drains the backlog, and settles every order', async () => {
      const shop = await newShop({ engine: options.engine });
      try {
        await shop.startAll();
        const memory = new MemorySampler(shop, 500);
        const backlog = sampleBacklog(shop, 500);
        const startedAt = Date.now();
        const endAt = startedAt + seconds * 1000;
        const accepted: AcceptedOrder[] = [];
        let next = 0;
        const foreign = Array.from({ length: directEvents }, (_, n) => `overload-direct-${n}-${startedAt}`);
        const transport = await shopTransport(shop);
        try {
          await Promise.all([
            publishEvenly(transport, foreign, endAt),
            ...Array.from({ length: clients }, async () => {
              while (Date.now() < endAt)
                accepted.push(await placeOrder(shop, next++, endAt + 30_000, 'overload'));
            }),
          ]);
        } finally {
          await transport.close();
        }
        const loadEndedAt = Date.now();
        const loadSeries = new Map(
          [...memory.series].map(([label, samples]) => [label, samples.filter((s) => s.at <= loadEndedAt)]),
        );
        const drainedAt = await drained(shop, drainTimeoutMs);
        backlog.stop();
        memory.stop();

        const ids = accepted.map((a) => a.id);
        assert.equal(new Set(ids).size, ids.length, 'each idempotency key made one order');
        const states = await waitUntilSettled(shop, ids);
        await assertConsistent(shop, ids, states, { foreignOrderIds: foreign });

        const whole = memory.figures();
        const duringLoad = MemorySampler.figuresOf(loadSeries);
        const problems: string[] = [];
        for (const [label, figures] of Object.entries(whole)) {
          if (figures.peakMiB > PEAK_RSS_BOUND_MIB)
            problems.push(`${label}: peak RSS ${figures.peakMiB} MiB > ${PEAK_RSS_BOUND_MIB} MiB`);
          const load: MemoryFigures = duringLoad[label]!;
          if (load.lastThirdMiB - load.firstThirdMiB > GROWTH_BOUND_MIB)
            problems.push(
              `${label}: RSS grew from ${load.firstThirdMiB} to ${load.lastThirdMiB} MiB under load (> ${GROWTH_BOUND_MIB} MiB)`,
            );
        }
        assert.deepEqual(problems, [], 'memory bounded');

        const peak = backlog.samples.reduce(
          (best, s) => (s.lag + s.outbox > best.lag + best.outbox ? s : best),
          { at: startedAt, lag: 0, outbox: 0 },
        );
        assert.ok(peak.lag + peak.outbox > 0, 'the load built a backlog (consumers slower than producers)');
        writeFigures(`overload-${options.engine.name}`, {
          engine: options.engine.name,
          seconds,
          clients,
          ordersAccepted: ids.length,
          directOrderPlaced: directEvents,
          acceptedPerSecond: Math.round(ids.length / ((loadEndedAt - startedAt) / 1000)),
          settledPerSecond: Math.round((ids.length + directEvents) / ((drainedAt - startedAt) / 1000)),
          confirmed: [...states.values()].filter((s) => s.status === 'CONFIRMED').length,
          cancelled: [...states.values()].filter((s) => s.status === 'CANCELLED').length,
          backlogPeak: {
            lag: peak.lag,
            outbox: peak.outbox,
            atSecond: Math.round((peak.at - startedAt) / 1000),
          },
          loadMs: loadEndedAt - startedAt,
          drainMs: drainedAt - loadEndedAt,
          checkMs: Date.now() - drainedAt,
          rssBoundMiB: PEAK_RSS_BOUND_MIB,
          growthBoundMiB: GROWTH_BOUND_MIB,
          rssMiB: whole,
          rssDuringLoadMiB: duringLoad,
          at: new Date().toISOString(),
        });
      } catch (error) {
        console.error(shop.tail(120));
        throw error;
      }
    });
  });
}
