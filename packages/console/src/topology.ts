import type { Transport } from '@herald/core';
import type { WatchedService } from './config.ts';
import type { LiveEvents } from './live-events.ts';
import { parsePrometheusText, type Sample } from './prometheus-text.ts';

/** A watched service as the topology shows it. */
export interface ServiceStatus {
  readonly name: string;
  readonly url: string;
  /** `ready` (its `/health/ready` answered 200), `unready`, or `unreachable`. */
  readonly state: 'ready' | 'unready' | 'unreachable';
  readonly detail: string | undefined;
  /** Whether its `/metrics` answered with Herald's messaging metrics. */
  readonly metrics: boolean;
}

/** One consumer group on one topic. Rates are per second over the last scrape interval; `undefined`: not known. */
export interface GroupTopic {
  readonly group: string;
  readonly topic: string;
  readonly processedPerSecond: number | undefined;
  readonly failedPerSecond: number | undefined;
  readonly processedTotal: number;
  readonly deadLetteredTotal: number;
  /** Summed over the partitions the group's processes report; `undefined` when none reports lag. */
  readonly lag: number | undefined;
}

/** A topic: how many events per second the console's own subscription sees on it. */
export interface TopicStatus {
  readonly name: string;
  readonly eventsPerSecond: number | undefined;
  readonly seen: number;
}

/** What the topology view shows, and plainly what cannot be known on this transport. */
export interface Topology {
  readonly transport: { readonly name: string; readonly capabilities: Transport['capabilities'] };
  readonly services: readonly ServiceStatus[];
  readonly topics: readonly TopicStatus[];
  readonly groups: readonly GroupTopic[];
  /** Sentences for the operator: what this transport or configuration cannot report. */
  readonly limits: readonly string[];
  /** ISO time of the sample. */
  readonly at: string;
}

const WANTED = new Set([
  'herald_events_processed_total',
  'herald_events_failed_total',
  'herald_events_dead_lettered_total',
  'herald_consumer_lag',
]);

interface Snapshot {
  readonly at: number;
  readonly processed: Map<string, number>;
  readonly failed: Map<string, number>;
  readonly seen: Map<string, number>;
}

const pairKey = (group: string, topic: string) => `${group}\u0000${topic}`;

function sum(samples: readonly Sample[], name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const key = pairKey(sample.labels.group ?? '', sample.labels.topic ?? '');
    out.set(key, (out.get(key) ?? 0) + sample.value);
  }
  return out;
}

async function fetchText(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

/**
 * Samples the topology: each watched service's readiness and Prometheus metrics (processed, failed and
 * dead-lettered counters, `herald_consumer_lag`), and the console's own event counts per topic. Rates are the
 * difference to the previous sample, so the first sample has none. Works on every transport: where lag cannot be
 * had, it says so in {@link Topology.limits} instead of showing a zero.
 */
export class TopologySampler {
  #previous: Snapshot | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly services: readonly WatchedService[],
    private readonly live: LiveEvents,
    private readonly timeoutMs = 2000,
  ) {}

  async sample(): Promise<Topology> {
    const results = await Promise.all(this.services.map((service) => this.#probe(service)));
    const samples = results.flatMap((result) => result.samples);
    const now = Date.now();
    const snapshot: Snapshot = {
      at: now,
      processed: sum(samples, 'herald_events_processed_total'),
      failed: sum(samples, 'herald_events_failed_total'),
      seen: new Map(this.live.counts()),
    };
    const previous = this.#previous;
    this.#previous = snapshot;
    const seconds = previous === undefined ? 0 : (now - previous.at) / 1000;
    const rate = (current: Map<string, number>, before: Map<string, number> | undefined, key: string) =>
      before === undefined || seconds <= 0
        ? undefined
        : Math.max(0, (current.get(key) ?? 0) - (before.get(key) ?? 0)) / seconds;

    const deadLettered = sum(samples, 'herald_events_dead_lettered_total');
    const lag = sum(samples, 'herald_consumer_lag');
    const keys = new Set([...snapshot.processed.keys(), ...snapshot.failed.keys(), ...lag.keys()]);
    const groups = [...keys]
      .map((key): GroupTopic => {
        const [group, topic] = key.split('\u0000') as [string, string];
        return {
          group,
          topic,
          processedPerSecond: rate(snapshot.processed, previous?.processed, key),
          failedPerSecond: rate(snapshot.failed, previous?.failed, key),
          processedTotal: snapshot.processed.get(key) ?? 0,
          deadLetteredTotal: deadLettered.get(key) ?? 0,
          lag: lag.get(key),
        };
      })
      .sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic));
    const topics = this.live.topics.map((name): TopicStatus => ({
      name,
      eventsPerSecond: rate(snapshot.seen, previous?.seen, name),
      seen: snapshot.seen.get(name) ?? 0,
    }));
    return {
      transport: { name: this.transport.name, capabilities: this.transport.capabilities },
      services: results.map((result) => result.status),
      topics,
      groups,
      limits: this.#limits(results.some((result) => result.status.metrics)),
      at: new Date(now).toISOString(),
    };
  }

  #limits(anyMetrics: boolean): string[] {
    const limits: string[] = [];
    const { name, capabilities } = this.transport;
    if (this.transport.consumerLag === undefined)
      limits.push(`The ${name} transport cannot report consumer lag: no lag is shown for any group.`);
    if (!capabilities.deadLetterQueue)
      limits.push(`The ${name} transport keeps no dead-letter queue: there is nothing to replay.`);
    if (this.services.length === 0)
      limits.push(
        'No services are configured (HERALD_CONSOLE_SERVICES): consumer groups, their rates and lag come from ' +
          "the services' /metrics and are not shown.",
      );
    else if (!anyMetrics)
      limits.push("No service serves Herald's metrics at /metrics: group rates and lag are not known.");
    if (this.live.topics.length === 0)
      limits.push(
        'No topics are watched (HERALD_CONSOLE_CONTRACTS or HERALD_CONSOLE_TOPICS): no live stream.',
      );
    return limits;
  }

  async #probe(service: WatchedService): Promise<{ status: ServiceStatus; samples: Sample[] }> {
    let state: ServiceStatus['state'] = 'unreachable';
    let detail: string | undefined;
    try {
      const health = await fetchText(`${service.url}/health/ready`, this.timeoutMs);
      state = health.status === 200 ? 'ready' : 'unready';
      if (state === 'unready') detail = `/health/ready answered ${health.status}`;
    } catch (error) {
      detail = error instanceof Error ? error.message : String(error);
    }
    let samples: Sample[] = [];
    if (state !== 'unreachable') {
      try {
        const metrics = await fetchText(`${service.url}/metrics`, this.timeoutMs);
        if (metrics.status === 200) samples = parsePrometheusText(metrics.text, (name) => WANTED.has(name));
      } catch {
        samples = [];
      }
    }
    return {
      status: { name: service.name, url: service.url, state, detail, metrics: samples.length > 0 },
      samples,
    };
  }
}
