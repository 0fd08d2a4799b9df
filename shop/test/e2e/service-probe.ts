/**
 * What the system fault tests read from the running services, from outside: each process's resident memory
 * (`VmRSS` in `/proc/<pid>/status`, the kernel's count, whatever the process believes), the Prometheus figures
 * every service serves at `GET /metrics` (outbox backlog, dead-lettered and skipped events), and the groups' lag
 * as the broker keeps it.
 */
import { readFileSync } from 'node:fs';
import { readGroupLag } from '@herald/cli';
import { SUBSCRIPTIONS } from './engines.ts';
import type { Shop } from './shop-harness.ts';

/** The resident set size of process `pid` in bytes, or `undefined` when it is gone (or not on Linux). */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kilobytes = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kilobytes === undefined ? undefined : Number(kilobytes) * 1024;
  } catch {
    return undefined;
  }
}

/** One sample of Prometheus text: a series' name, labels and value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (comments skipped; label values unescaped for `\"` and `\\`). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL))
      labels[key!] = value!.replace(/\\(["\\])/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `where`. */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  where: Readonly<Record<string, string>> = {},
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Each running instance's `/metrics`, parsed, by label (an instance that does not answer is left out). */
export async function scrapeAll(shop: Shop): Promise<Map<string, Sample[]>> {
  const scraped = new Map<string, Sample[]>();
  await Promise.all(
    [...shop.urls].map(async ([label, url]) => {
      try {
        const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
        if (response.ok) scraped.set(label, parsePrometheus(await response.text()));
      } catch {
        // Down or too busy to answer within the timeout: no sample this time.
      }
    }),
  );
  return scraped;
}

/** The records consumer groups have not committed yet plus the outbox rows not yet published, over the shop. */
export interface Backlog {
  /** Records the groups have not committed, read from the broker (RabbitMQ: messages waiting in the queues). */
  readonly lag: number;
  /** Outbox rows not yet published, from every instance's `/metrics` (`herald_outbox_backlog`). */
  readonly outbox: number;
}

/**
 * The lag of the shop's four groups on their topics, from the broker's own bookkeeping (`readGroupLag` of the
 * `herald` CLI: committed offsets on SQLite and Kafka, pending counts on NATS; queued messages on RabbitMQ). Not
 * `herald_consumer_lag` from `/metrics`: only the SQLite transport reports that gauge per process.
 */
export async function brokerLag(shop: Shop): Promise<number> {
  if (shop.engine.queued !== undefined) return shop.engine.queued(shop.topicPrefix);
  const report = await readGroupLag({
    transport: shop.engine.name,
    url: shop.env().HERALD_BROKER!,
    topicPrefix: shop.topicPrefix,
    groups: Object.keys(SUBSCRIPTIONS),
    topics: [...new Set(Object.values(SUBSCRIPTIONS).flat())],
  });
  if (!report.reported) throw new Error(`no lag on ${shop.engine.name}: ${report.reason}`);
  return report.lags.reduce((sum, l) => sum + l.lag, 0);
}

/** The shop's {@link Backlog} now. */
export async function backlogOf(shop: Shop): Promise<Backlog> {
  const [lag, scraped] = await Promise.all([brokerLag(shop), scrapeAll(shop)]);
  return {
    lag,
    outbox: [...scraped.values()].reduce((sum, samples) => sum + sumOf(samples, 'herald_outbox_backlog'), 0),
  };
}

/** The resident memory of one instance over a run. */
export interface MemoryFigures {
  readonly samples: number;
  readonly peakMiB: number;
  /** Mean of the first and of the last third of the samples. */
  readonly firstThirdMiB: number;
  readonly lastThirdMiB: number;
}

const MIB = 1024 * 1024;
const round = (n: number) => Math.round(n * 10) / 10;
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/**
 * Samples every running instance's resident memory (by label) every `intervalMs` until stopped. A process that
 * was restarted is sampled under its new pid; a dead one is skipped.
 */
export class MemorySampler {
  readonly series = new Map<string, { at: number; bytes: number }[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly shop: Shop,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const at = Date.now();
    for (const [label, child] of this.shop.children) {
      const pid = child.process.pid;
      const bytes = pid === undefined ? undefined : residentBytes(pid);
      if (bytes === undefined) continue;
      let samples = this.series.get(label);
      if (samples === undefined) this.series.set(label, (samples = []));
      samples.push({ at, bytes });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** Figures per instance over the whole run, in MiB to one decimal. */
  figures(): Record<string, MemoryFigures> {
    return MemorySampler.figuresOf(this.series);
  }

  /** Figures per instance of `series` (all samples, or a window of them), in MiB to one decimal. */
  static figuresOf(
    series: ReadonlyMap<string, readonly { at: number; bytes: number }[]>,
  ): Record<string, MemoryFigures> {
    const out: Record<string, MemoryFigures> = {};
    for (const [label, samples] of series) {
      if (samples.length === 0) continue;
      const bytes = samples.map((s) => s.bytes);
      const third = Math.max(1, Math.floor(bytes.length / 3));
      out[label] = {
        samples: bytes.length,
        peakMiB: round(Math.max(...bytes) / MIB),
        firstThirdMiB: round(mean(bytes.slice(0, third)) / MIB),
        lastThirdMiB: round(mean(bytes.slice(-third)) / MIB),
      };
    }
    return out;
  }
}
