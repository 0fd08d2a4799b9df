import { Child } from './child.ts';
import { nowUs } from './clock.ts';
import { BrokerMeter, machineBusyUs, pidOf } from './proc-stats.ts';
import type { ConsumerResult, Mode, Placement, ProducerResult, TrialSpec, Variant } from './protocol.ts';
import { percentile, sortedCopy } from './stats.ts';
import type { System } from './system.ts';

/** The measured figures of one trial. */
export interface TrialResult {
  readonly system: string;
  readonly variant: Variant;
  readonly mode: Mode;
  readonly rep: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly count: number;
  /** Published events ÷ (last delivery − first publish), events/s. */
  readonly throughput: number;
  readonly e2eMs?: { readonly p50: number; readonly p99: number; readonly p999: number; readonly n: number };
  readonly publishMs?: { readonly p50: number; readonly p99: number; readonly n: number };
  /** Rate the producer actually offered in latency mode, events/s. */
  readonly offeredRate?: number;
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
}

function placements(variant: Variant): Placement[] {
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

/** Runs one trial: resources, consumers, producer, measurement, cleanup. Never throws; failures are results. */
export async function runTrial(plan: TrialPlan): Promise<TrialResult> {
  const { system, variant, mode, count } = plan;
  const layout = placements(variant);
  const groups = [...new Set(layout.map((p) => p.group))];
  const failed = (error: unknown): TrialResult => ({
    system: system.id,
    variant,
    mode,
    rep: plan.rep,
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
  });

  let resources;
  try {
    resources = await system.setup({ name: plan.name, dir: plan.dir, groups });
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
      resources: resources.resources,
    };
    const consumers = layout.map(
      (placement, i) => new Child(`consumer ${i + 1}`, { role: 'consumer', spec, placement }, plan.cwd),
    );
    const producer = new Child('producer', { role: 'producer', spec }, plan.cwd);
    children.push(...consumers, producer);
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
    const brokerPid = system.broker ? pidOf(system.broker) : undefined;
    meter = brokerPid === undefined ? undefined : new BrokerMeter(brokerPid);
    meter?.start();
    const machineStart = machineBusyUs();
    const wallStart = nowUs();
    for (const c of consumers) c.send({ type: 'start' });
    producer.send({ type: 'start' });

    const produced = (await withTimeout(producer.result, plan.timeoutMs, 'the producer')) as ProducerResult;
    await withTimeout(
      Promise.race([allDelivered, ...consumers.map((c) => c.result.then(() => undefined))]),
      plan.timeoutMs,
      `every delivery (${expected})`,
    );
    for (const c of consumers) c.send({ type: 'finish' });
    const consumed = (await withTimeout(
      Promise.all(consumers.map((c) => c.result)),
      30_000,
      'consumer results',
    )) as ConsumerResult[];
    const broker = meter?.stop() ?? { cpuUs: 0, peakRssKb: 0 };
    const machineUs = machineBusyUs() - machineStart;
    const wallUs = nowUs() - wallStart;

    const lastUs = Math.max(...consumed.map((c) => c.lastUs));
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
      throughput: count / ((lastUs - produced.firstUs) / 1e6),
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
    if (mode === 'throughput') return result;
    const e2e = sortedCopy(consumed.flatMap((c) => c.e2eUs));
    const publish = sortedCopy(produced.publishUs.filter((v) => !Number.isNaN(v)));
    return {
      ...result,
      e2eMs: {
        p50: ms(percentile(e2e, 50)),
        p99: ms(percentile(e2e, 99)),
        p999: ms(percentile(e2e, 99.9)),
        n: e2e.length,
      },
      publishMs: { p50: ms(percentile(publish, 50)), p99: ms(percentile(publish, 99)), n: publish.length },
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
