// One B6 trial on one engine: the four shop services as separate processes (every guarantee on: outbox,
// inbox, retries, dead-letter queues, the saga's compensation), then
//   1. throughput: `connections` clients place orders back to back for `seconds` (far faster than the saga
//      settles them on most engines: the overload), then the backlog drains; confirmed orders per second over
//      the whole span from the first order to the last outcome, peak RSS of each service meanwhile;
//   2. latency: orders offered at `rate`/s for `seconds`, each timed from sending its POST to its outcome event.
import { performance } from 'node:perf_hooks';
import { Shop } from '@herald/shop/test/harness';
import type { Engine } from '@herald/shop/test/engines';
import { sleep } from '../clock.ts';
import { percentile, sortedCopy } from '../stats.ts';
import { MemorySampler } from './memory-sampler.ts';
import { OrderClient } from './order-client.ts';
import { SettlementWatch } from './settlement-watch.ts';

/** What one trial does. */
export interface ShopTrialOptions {
  readonly engine: Engine;
  readonly seconds: number;
  readonly connections: number;
  readonly rate: number;
  /** Longest wait for the backlog to drain, s. */
  readonly drainTimeoutS: number;
}

/** The throughput phase's figures. */
export interface ThroughputFigures {
  readonly accepted: number;
  readonly confirmed: number;
  readonly cancelled: number;
  readonly unsettled: number;
  readonly acceptedPerS: number;
  readonly confirmedPerS: number;
  /** Orders accepted but not settled yet, at most. */
  readonly peakBacklog: number;
  /** From the last accepted order to the last outcome, s. */
  readonly drainS: number;
  readonly peakRssMiB: Readonly<Record<string, number>>;
  readonly endRssMiB: Readonly<Record<string, number>>;
}

/** The latency phase's figures, order POST → outcome event. */
export interface LatencyFigures {
  readonly rate: number;
  readonly offered: number;
  readonly settled: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ShopTrialResult {
  readonly throughput: ThroughputFigures;
  readonly latency: LatencyFigures;
}

const STOCK = '100000000';

async function drain(watch: SettlementWatch, ids: readonly string[], timeoutS: number): Promise<void> {
  const deadline = performance.now() + timeoutS * 1000;
  while (ids.some((id) => !watch.settledAt.has(id)) && performance.now() < deadline) await sleep(50);
}

/** Runs one trial; the shop and its topics are removed afterwards, whatever happened. */
export async function runShopTrial(options: ShopTrialOptions): Promise<ShopTrialResult> {
  const shop = await Shop.create({ engine: options.engine, env: { INVENTORY_INITIAL_STOCK: STOCK } });
  let watch: SettlementWatch | undefined;
  let client: OrderClient | undefined;
  try {
    await shop.startAll();
    watch = await SettlementWatch.start(shop.env().HERALD_BROKER!, shop.topicPrefix, 'bench-b6-observer');
    client = new OrderClient(shop.orderUrl, options.connections);
    const w = watch;
    const c = client;
    const pids = () => new Map([...shop.children].map(([name, child]) => [name, child.process.pid]));

    // 1. Throughput under overload.
    const memory = new MemorySampler(pids);
    const accepted: string[] = [];
    let peakBacklog = 0;
    const backlog = setInterval(() => {
      peakBacklog = Math.max(peakBacklog, accepted.length - w.settledAt.size);
    }, 100);
    const startedAt = performance.now();
    const endAt = startedAt + options.seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (performance.now() < endAt) accepted.push(await c.place(n++));
      }),
    );
    const acceptedAt = performance.now();
    await drain(w, accepted, options.drainTimeoutS);
    clearInterval(backlog);
    memory.stop();
    const outcomes = accepted.map((id) => w.settledAt.get(id)).filter((t): t is number => t !== undefined);
    const lastOutcome = Math.max(acceptedAt, ...outcomes);
    const confirmedBefore = w.confirmed;
    const throughput: ThroughputFigures = {
      accepted: accepted.length,
      confirmed: w.confirmed,
      cancelled: w.cancelled,
      unsettled: accepted.length - outcomes.length,
      acceptedPerS: accepted.length / ((acceptedAt - startedAt) / 1000),
      confirmedPerS: w.confirmed / ((lastOutcome - startedAt) / 1000),
      peakBacklog,
      drainS: (lastOutcome - acceptedAt) / 1000,
      peakRssMiB: { ...memory.peakMiB },
      endRssMiB: { ...memory.lastMiB },
    };

    // 2. Latency at a fixed offered rate (open loop: an order every 1/rate s, whatever the answers do).
    const sent = new Map<string, number>();
    const placing: Promise<void>[] = [];
    const latencyStart = performance.now();
    const total = Math.round(options.rate * options.seconds);
    for (let i = 0; i < total; i++) {
      const due = latencyStart + (i * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const at = performance.now();
      placing.push(c.place(n++).then((id) => void sent.set(id, at)));
    }
    await Promise.all(placing);
    await drain(w, [...sent.keys()], options.drainTimeoutS);
    const latencies = sortedCopy(
      [...sent].flatMap(([id, at]) => {
        const settled = w.settledAt.get(id);
        return settled === undefined ? [] : [settled - at];
      }),
    );
    const latency: LatencyFigures = {
      rate: options.rate,
      offered: total,
      settled: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.length === 0 ? Number.NaN : latencies[latencies.length - 1]!,
    };
    if (w.confirmed - confirmedBefore < latencies.length)
      throw new Error(
        `b6 on ${options.engine.name}: orders were cancelled in the latency phase; stock ran out?`,
      );
    return { throughput, latency };
  } catch (error) {
    console.error(shop.tail(60));
    throw error;
  } finally {
    client?.close();
    await watch?.close().catch(() => undefined);
    await shop.dispose();
  }
}
