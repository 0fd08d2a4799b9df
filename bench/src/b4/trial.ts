// One B4 trial of one system: a consumer, a relay and a producer process on a fresh sqlite transport file, the
// system's tables kept for the whole run. Phase 1 (throughput): `count` business transactions as fast as the
// producer commits them, until every event is handled. Phase 2 (latency): transactions at a fixed rate for
// `seconds`, until every event is handled. The queue table is measured before and after (rows, bytes).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { Child } from '../child.ts';
import { nowUs } from '../clock.ts';
import { removeDatabase } from '../peers/sqlite-raw-setup.ts';
import { machineBusyUs } from '../proc-stats.ts';
import { b4Figures, type B4Figures } from './figures.ts';
import type {
  B4ConsumerResult,
  B4Phase,
  B4RelayResult,
  B4Schemas,
  B4SystemId,
  B4Usage,
  B4WorkerArgs,
  PhaseDone,
} from './protocol.ts';
import { queueTable, tableSize, type TableSize } from './tables.ts';

const ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface B4TrialPlan {
  readonly system: B4SystemId;
  readonly schemas: B4Schemas;
  readonly rep: number;
  /** Transactions of the throughput phase. */
  readonly count: number;
  /** Offered rate and length of the latency phase. */
  readonly rate: number;
  readonly seconds: number;
  /** Unique per trial (the transport file's name). */
  readonly name: string;
  readonly dir: string;
  readonly cwd: string;
  /** Limit of each phase, ms. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** The orchestrator's pool, for measuring the queue table. */
  readonly pool: pg.Pool;
}

/** The queue table before and after a trial. */
export interface QueueTable {
  readonly name: string;
  readonly start: TableSize;
  readonly end: TableSize;
}

export interface B4TrialResult extends Partial<B4Figures> {
  readonly system: B4SystemId;
  readonly rep: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly count: number;
  readonly rate: number;
  readonly latencyCount: number;
  readonly duplicates?: number;
  readonly table?: QueueTable;
  /** CPU seconds of each process from the first phase to the end. */
  readonly cpuSeconds?: { readonly producer: number; readonly relay: number; readonly consumer: number };
  /** CPU of the three processes per business transaction, µs. */
  readonly clientCpuUs?: number;
  readonly peakRssMb?: { readonly producer: number; readonly relay: number; readonly consumer: number };
  /** Other processes' CPU during the trial (PostgreSQL included), cores. */
  readonly otherCores?: number;
  readonly relay?: Omit<B4RelayResult, 'cpuUs' | 'maxRssKb'>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one trial; never throws (a failure is a result with `ok: false`); the transport file is removed. */
export async function runB4Trial(plan: B4TrialPlan): Promise<B4TrialResult> {
  const latencyCount = Math.max(1, Math.round(plan.rate * plan.seconds));
  const base = { system: plan.system, rep: plan.rep, count: plan.count, rate: plan.rate, latencyCount };
  const table = queueTable(plan.system, plan.schemas);
  const path = join(plan.dir, `${plan.name}.db`);
  const args = (role: B4WorkerArgs['role']): B4WorkerArgs => ({
    role,
    system: plan.system,
    schemas: plan.schemas,
    path,
    total: plan.count + latencyCount,
  });
  const children: Child<unknown>[] = [];
  const abort = (): void => {
    for (const c of children) c.kill();
  };
  plan.signal.addEventListener('abort', abort, { once: true });
  try {
    const start = await tableSize(plan.pool, table);
    const consumer = new Child<B4ConsumerResult>('b4 consumer', args('consumer'), plan.cwd, ENTRY);
    const relay = new Child<B4RelayResult>('b4 relay', args('relay'), plan.cwd, ENTRY);
    const producer = new Child<B4Usage>('b4 producer', args('producer'), plan.cwd, ENTRY);
    children.push(consumer, relay, producer);
    if (plan.signal.aborted) abort();
    // Any process failing fails the trial at once, whatever it is waiting for.
    const failure = Promise.race(
      children.map((c) => c.result.then(() => new Promise<never>(() => undefined))),
    );
    failure.catch(() => undefined);
    await withTimeout(
      Promise.race([Promise.all(children.map((c) => c.ready)), failure]),
      60_000,
      'the processes to start',
    );

    let phaseDone: (done: PhaseDone) => void = () => undefined;
    producer.onMessage = (message) => {
      if (message.type === 'phase-done') phaseDone(message as PhaseDone);
    };
    let progress: () => void = () => undefined;
    consumer.onProgress = () => progress();
    const handled = (n: number): Promise<void> =>
      new Promise((resolve) => {
        progress = () => {
          if (consumer.distinct >= n) resolve();
        };
        progress();
      });
    const phase = async (name: B4Phase, from: number, count: number): Promise<PhaseDone> => {
      const committed = new Promise<PhaseDone>((resolve) => (phaseDone = resolve));
      producer.send({ type: 'phase', phase: name, from, count, rate: plan.rate });
      const done = await withTimeout(
        Promise.race([committed, failure]),
        plan.timeoutMs,
        `the ${name} phase's commits`,
      );
      await withTimeout(
        Promise.race([handled(from + count), failure]),
        plan.timeoutMs,
        `the ${name} phase's events to be handled (${consumer.distinct} of ${from + count})`,
      );
      return done;
    };

    const machineStart = machineBusyUs();
    const wallStart = nowUs();
    for (const c of children) c.send({ type: 'start' });
    const throughputPhase = await phase('throughput', 0, plan.count);
    const latencyPhase = await phase('latency', plan.count, latencyCount);
    for (const c of children) c.send({ type: 'finish' });
    const [consumed, relayed, produced] = await withTimeout(
      Promise.all([consumer.result, relay.result, producer.result]),
      30_000,
      'the processes to report',
    );
    const machineUs = machineBusyUs() - machineStart;
    const wallUs = nowUs() - wallStart;
    await Promise.all(children.map((c) => c.stop(10_000)));
    const end = await tableSize(plan.pool, table);
    const figures = b4Figures(throughputPhase, latencyPhase, consumed);
    const ownUs = produced.cpuUs + relayed.cpuUs + consumed.cpuUs;
    const { cpuUs: _cpu, maxRssKb: _rss, ...relayCounts } = relayed;
    return {
      ...base,
      ok: true,
      ...figures,
      duplicates: consumed.duplicates,
      table: { name: table, start, end },
      cpuSeconds: {
        producer: produced.cpuUs / 1e6,
        relay: relayed.cpuUs / 1e6,
        consumer: consumed.cpuUs / 1e6,
      },
      clientCpuUs: ownUs / figures.committed,
      peakRssMb: {
        producer: produced.maxRssKb / 1024,
        relay: relayed.maxRssKb / 1024,
        consumer: consumed.maxRssKb / 1024,
      },
      otherCores: Math.max(0, (machineUs - ownUs) / wallUs),
      relay: relayCounts,
    };
  } catch (error) {
    abort();
    return { ...base, ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    plan.signal.removeEventListener('abort', abort);
    await Promise.all(children.map((c) => c.stop(10_000)));
    await removeDatabase(path).catch(() => undefined);
  }
}
