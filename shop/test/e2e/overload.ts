/**
 * Issue 9 item 3: overload. Clients POST orders as fast as the order service takes them for a while, far faster
 * than the saga (payment, inventory, the order service's own confirmation, notification) can settle them, so a
 * backlog builds up in the broker and in the outboxes. Meanwhile every service's resident memory is sampled from
 * `/proc/<pid>/status` every 500 ms and the backlog from each service's `/metrics` (`herald_consumer_lag`,
 * `herald_outbox_backlog`).
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
import type { Engine } from './engines.ts';
import { placeOrder, sleep, writeFigures, type AcceptedOrder } from './order-load.ts';
import { backlogOf, MemorySampler, type Backlog, type MemoryFigures } from './service-probe.ts';
import type { Shop } from './shop-harness.ts';
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
  /** How long clients push orders. Default `HERALD_OVERLOAD_SECONDS` or 12. */
  readonly seconds?: number;
  /** Clients posting at once, each as fast as it is answered. Default 16. */
  readonly clients?: number;
  /** Bound on the drain after the load, ms. Default 90 s. */
  readonly drainTimeoutMs?: number;
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
      samples.push({ at, ...(await backlogOf(shop)) });
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
    const backlog = await backlogOf(shop);
    if (backlog.lag === 0 && backlog.outbox === 0) return Date.now();
    if (Date.now() > deadline)
      assert.fail(`backlog not drained after ${timeoutMs} ms: ${JSON.stringify(backlog)}\n${shop.tail()}`);
    await sleep(250);
  }
}

/** Registers the overload test for one engine. */
export async function describeOverload(options: OverloadOptions): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.HERALD_OVERLOAD_SECONDS ?? 12);
  const clients = options.clients ?? 16;
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
        await Promise.all(
          Array.from({ length: clients }, async () => {
            while (Date.now() < endAt)
              accepted.push(await placeOrder(shop, next++, endAt + 30_000, 'overload'));
          }),
        );
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
        await assertConsistent(shop, ids, states);

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
          acceptedPerSecond: Math.round(ids.length / ((loadEndedAt - startedAt) / 1000)),
          settledPerSecond: Math.round(ids.length / ((drainedAt - startedAt) / 1000)),
          confirmed: [...states.values()].filter((s) => s.status === 'CONFIRMED').length,
          cancelled: [...states.values()].filter((s) => s.status === 'CANCELLED').length,
          backlogPeak: {
            lag: peak.lag,
            outbox: peak.outbox,
            atSecond: Math.round((peak.at - startedAt) / 1000),
          },
          drainMs: drainedAt - loadEndedAt,
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
