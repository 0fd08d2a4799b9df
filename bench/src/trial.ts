import { Child } from './child.ts';
import { nowUs } from './clock.ts';
import { BrokerMeter, machineBusyUs, pidListeningOn, pidOf } from './proc-stats.ts';
import type { ConsumerResult, Mode, Placement, ProducerResult, TrialSpec, Variant } from './protocol.ts';
import { percentile, sortedCopy } from './stats.ts';
import type { Broker, System } from './system.ts';
import { KAFKA_PORT } from './peers/kafka-config.ts';

/** The measured figures of one trial. */
export interface TrialResult {
  readonly system: string;
  readonly variant: Variant;
  readonly mode: Mode;
  readonly rep: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly count: number;
  /**
   * Events/s: published events ÷ (last delivery − first publish); producer alone: ÷ (last acknowledgement −
   * first publish); consumer alone: ÷ (last delivery − first delivery).
   */
  readonly throughput: number;
  readonly e2eMs?: { readonly p50: number; readonly p99: number; readonly p999: number; readonly n: number };
  /** Publish calls timed to their acknowledgement: single events (latency, publish-one) or batches. */
  readonly publishMs?: { readonly p50: number; readonly p99: number; readonly n: number };
  /** Rate the producer actually offered in latency mode, events/s. */
  readonly offeredRate?: number;
  /**
   * Events the producer reported published: `count` when it did its job; 0 in consume mode (the events were stored
   * before the trial). Absent in results written before it was recorded.
   */
  readonly published?: number;
  /** Deliveries the consumers counted, duplicates included. */
  readonly delivered: number;
  readonly duplicates: number;
  readonly cpuSeconds: { readonly producer: number; readonly consumers: number; readonly broker: number };
  /** All processes' CPU seconds per million published events. */
  readonly cpuSecondsPerMillion: number;
  readonly peakRssMb: { readonly producer: number; readonly consumers: number; readonly broker: number };
  readonly peakRssMbTotal: number;
  /**
   * CPU used by other processes of the machine during the trial, in cores (machine busy time minus this
   * trial's processes, over the wall time): the noise the trial ran under.
   */
  readonly backgroundCores: number;
}

export interface TrialPlan {
  readonly system: System;
  readonly variant: Variant;
  readonly mode: Mode;
  readonly rep: number;
  readonly count: number;
  readonly rate: number;
  readonly name: string;
  readonly dir: string;
  readonly cwd: string;
  readonly timeoutMs: number;
  /** Aborting kills the trial's processes; the trial then fails and cleans up. */
  readonly signal: AbortSignal;
  /** Resources shared by the systems of this scenario and repetition. */
  readonly shared: Readonly<Record<string, string>>;
}

function placements(variant: Variant, mode: Mode): Placement[] {
  if (mode === 'publish-one' || mode === 'publish-batch') return [];
  switch (variant) {
    case 'single':
      return [{ group: 'g1', member: 0, members: 1 }];
    case 'competing':
      return [
        { group: 'g1', member: 0, members: 2 },
        { group: 'g1', member: 1, members: 2 },
      ];
    case 'groups':
      return [
        { group: 'g1', member: 0, members: 1 },
        { group: 'g2', member: 0, members: 1 },
      ];
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ms = (us: number): number => us / 1000;

function brokerPid(broker: Broker | undefined): number | undefined {
  if (broker === undefined) return undefined;
  return broker === 'kafka' ? pidListeningOn(KAFKA_PORT) : pidOf(broker);
}

const EMPTY_PRODUCER: ProducerResult = {
  cpuUs: 0,
  maxRssKb: 0,
  published: 0,
  firstUs: Number.NaN,
  lastUs: Number.NaN,
  publishUs: [],
};

/** The result of a trial that could not run or did not finish. */
export function failedTrial(
  system: string,
  variant: Variant,
  mode: Mode,
  rep: number,
  count: number,
  error: unknown,
): TrialResult {
  return {
    system,
    variant,
    mode,
    rep,
    ok: false,
    error: error instanceof Error ? error.message : String(error),
    count,
    throughput: Number.NaN,
    delivered: 0,
    duplicates: 0,
    cpuSeconds: { producer: Number.NaN, consumers: Number.NaN, broker: Number.NaN },
    cpuSecondsPerMillion: Number.NaN,
    peakRssMb: { producer: Number.NaN, consumers: Number.NaN, broker: Number.NaN },
    peakRssMbTotal: Number.NaN,
    backgroundCores: Number.NaN,
  };
}

/** Runs one trial: resources, consumers, producer, measurement, cleanup. Never throws; failures are results. */
export async function runTrial(plan: TrialPlan): Promise<TrialResult> {
  const { system, variant, mode, count } = plan;
  const layout = placements(variant, mode);
  const groups = [...new Set(layout.map((p) => p.group))];
  const failed = (error: unknown): TrialResult =>
    failedTrial(system.id, variant, mode, plan.rep, count, error);

  let resources;
  try {
    resources = await system.setup({
      name: plan.name,
      dir: plan.dir,
      groups,
      mode,
      count,
      shared: plan.shared,
    });
  } catch (error) {
    return failed(error);
  }
  const children: Child[] = [];
  const abort = (): void => {
    for (const c of children) c.kill();
  };
  plan.signal.addEventListener('abort', abort, { once: true });
  let meter: BrokerMeter | undefined;
  let finished = false;
  try {
    const spec: TrialSpec = {
      system: system.id,
      peer: system.peer,
      durability: system.durability,
      variant,
      mode,
      count,
      rate: plan.rate,
      batch: system.batch,
      window: system.window,
      payloadBytes: system.payloadBytes ?? 0,
      resources: resources.resources,
    };
    const consumers = layout.map(
      (placement, i) => new Child(`consumer ${i + 1}`, { role: 'consumer', spec, placement }, plan.cwd),
    );
    const producer =
      mode === 'consume' ? undefined : new Child('producer', { role: 'producer', spec }, plan.cwd);
    children.push(...consumers, ...(producer ? [producer] : []));
    if (plan.signal.aborted) abort();
    await withTimeout(
      Promise.all(children.map((c) => c.ready)),
      60_000,
      'the consumers to subscribe and the producer to connect',
    );

    const expected = count * groups.length;
    const allDelivered = new Promise<void>((resolve) => {
      const check = (): void => {
        if (consumers.reduce((sum, c) => sum + c.distinct, 0) >= expected) resolve();
      };
      for (const c of consumers) c.onProgress = check;
    });
    const pid = brokerPid(system.broker);
    meter = pid === undefined ? undefined : new BrokerMeter(pid);
    meter?.start();
    const machineStart = machineBusyUs();
    const wallStart = nowUs();
    for (const c of consumers) c.send({ type: 'start' });
    producer?.send({ type: 'start' });

    const produced = producer
      ? ((await withTimeout(producer.result, plan.timeoutMs, 'the producer')) as ProducerResult)
      : EMPTY_PRODUCER;
    if (consumers.length > 0) {
      await withTimeout(
        Promise.race([allDelivered, ...consumers.map((c) => c.result.then(() => undefined))]),
        plan.timeoutMs,
        `every delivery (${expected})`,
      );
    }
    for (const c of consumers) c.send({ type: 'finish' });
    const consumed = (await withTimeout(
      Promise.all(consumers.map((c) => c.result)),
      30_000,
      'consumer results',
    )) as ConsumerResult[];
    const broker = meter?.stop() ?? { cpuUs: 0, peakRssKb: 0 };
    const machineUs = machineBusyUs() - machineStart;
    const wallUs = nowUs() - wallStart;

    // Producer alone: until the last acknowledgement. Consumer alone: from its first delivery to its last (the
    // events were stored before). Otherwise: from the first publish to the last delivery.
    const [startUs, endUs] =
      consumers.length === 0
        ? [produced.firstUs, produced.lastUs]
        : [
            producer ? produced.firstUs : Math.min(...consumed.map((c) => c.firstUs)),
            Math.max(...consumed.map((c) => c.lastUs)),
          ];
    const cpuSeconds = {
      producer: produced.cpuUs / 1e6,
      consumers: consumed.reduce((sum, c) => sum + c.cpuUs, 0) / 1e6,
      broker: broker.cpuUs / 1e6,
    };
    const peakRssMb = {
      producer: produced.maxRssKb / 1024,
      consumers: consumed.reduce((sum, c) => sum + c.maxRssKb, 0) / 1024,
      broker: broker.peakRssKb / 1024,
    };
    const result: TrialResult = {
      system: system.id,
      variant,
      mode,
      rep: plan.rep,
      ok: true,
      count,
      throughput: count / ((endUs - startUs) / 1e6),
      published: produced.published,
      delivered: consumed.reduce((sum, c) => sum + c.received, 0),
      duplicates: consumed.reduce((sum, c) => sum + c.duplicates, 0),
      cpuSeconds,
      cpuSecondsPerMillion: ((cpuSeconds.producer + cpuSeconds.consumers + cpuSeconds.broker) / count) * 1e6,
      peakRssMb,
      peakRssMbTotal: peakRssMb.producer + peakRssMb.consumers + peakRssMb.broker,
      backgroundCores: Math.max(
        0,
        (machineUs - (produced.cpuUs + consumed.reduce((sum, c) => sum + c.cpuUs, 0) + broker.cpuUs)) /
          wallUs,
      ),
    };
    finished = true;
    const publish = sortedCopy(produced.publishUs.filter((v) => !Number.isNaN(v)));
    const timed =
      publish.length === 0
        ? result
        : {
            ...result,
            publishMs: {
              p50: ms(percentile(publish, 50)),
              p99: ms(percentile(publish, 99)),
              n: publish.length,
            },
          };
    if (mode !== 'latency') return timed;
    const e2e = sortedCopy(consumed.flatMap((c) => c.e2eUs));
    return {
      ...timed,
      e2eMs: {
        p50: ms(percentile(e2e, 50)),
        p99: ms(percentile(e2e, 99)),
        p999: ms(percentile(e2e, 99.9)),
        n: e2e.length,
      },
      offeredRate: count / ((produced.lastUs - produced.firstUs) / 1e6),
    };
  } catch (error) {
    return failed(error);
  } finally {
    plan.signal.removeEventListener('abort', abort);
    if (!finished) {
      meter?.stop();
      for (const c of children) c.kill();
    }
    await Promise.all(children.map((c) => c.stop(10_000)));
    await resources.teardown().catch(() => undefined);
  }
}
