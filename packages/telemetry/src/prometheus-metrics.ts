import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  configError,
  registerMessagingMetrics,
  type DeliveryLabels,
  type MessagingMetrics,
  type Transport,
} from '@herald/core';

/** An outbox's backlog at one moment. */
export interface OutboxBacklog {
  /** Rows waiting to be published. */
  readonly pending: number;
  /** When the oldest waiting row was written (ms since the epoch or a Date); absent when none waits. */
  readonly oldestCreatedAt?: number | Date;
}

/** Reads an outbox's backlog; called at each scrape. */
export type OutboxBacklogSource = () => OutboxBacklog | Promise<OutboxBacklog>;

/** The part of a Herald outbox (SQLite or PostgreSQL) that {@link outboxBacklog} reads. */
export interface OutboxLike {
  pending(): number | Promise<number>;
  peek(
    limit: number,
  ):
    | readonly { readonly createdAt: number | Date }[]
    | Promise<readonly { readonly createdAt: number | Date }[]>;
}

/** A {@link OutboxBacklogSource} over a Herald outbox: its row count and its oldest row's age. */
export function outboxBacklog(outbox: OutboxLike): OutboxBacklogSource {
  return async () => {
    const pending = await outbox.pending();
    if (pending === 0) return { pending };
    const [oldest] = await outbox.peek(1);
    return oldest === undefined ? { pending } : { pending, oldestCreatedAt: oldest.createdAt };
  };
}

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. Default: a registry of their own. */
  readonly registry?: Registry;
  /** Labels added to every series (e.g. `{ service: 'order-service' }`). */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** Also collect prom-client's process metrics (CPU, memory, event loop lag, GC). Default `true`. */
  readonly processMetrics?: boolean;
  /** Buckets of `herald_handler_duration_seconds`. Default 0.5 ms to 10 s. */
  readonly durationBuckets?: readonly number[];
  /**
   * Register as the process's messaging metrics so the core's publish path and `metrics()` middleware feed them.
   * Default `true`.
   */
  readonly register?: boolean;
}

/** Herald's metrics in a prom-client registry, served as Prometheus text at `/metrics`. */
export interface PrometheusMetrics extends MessagingMetrics {
  readonly registry: Registry;
  /** The `Content-Type` of {@link PrometheusMetrics.text}. */
  readonly contentType: string;
  /** The Prometheus text exposition of every metric in the registry. */
  text(): Promise<string>;
  /**
   * Reports `herald_consumer_lag` for the transport's running subscriptions at each scrape (when the transport can
   * tell: `transport.consumerLag`). Returns the function that stops it.
   */
  watchTransport(transport: Transport): () => void;
  /** Reports `herald_outbox_backlog` and `herald_outbox_oldest_age_seconds` for `outbox` at each scrape. */
  watchOutbox(outbox: string, source: OutboxBacklogSource): () => void;
  /** Unregisters from the core (publishes and deliveries are no longer counted). */
  close(): void;
}

const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DELIVERY_LABELS = ['topic', 'type', 'group'] as const;

/**
 * Creates Herald's Prometheus metrics (see `docs/observability.md` for the list) and, by default, registers them
 * with the core so publishes and deliveries are counted (routers created afterwards turn their telemetry on).
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels(options.defaultLabels);
  const buckets = [...(options.durationBuckets ?? DEFAULT_BUCKETS)];
  if (buckets.length === 0 || buckets.some((b, i) => !(b > 0) || (i > 0 && b <= buckets[i - 1]!))) {
    throw configError('durationBuckets', 'increasing numbers > 0', options.durationBuckets);
  }
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const published = new Counter({
    name: 'herald_events_published_total',
    help: 'Events acknowledged by the transport (direct publishes and outbox relays), by topic and type.',
    labelNames: ['topic', 'type'] as const,
    registers,
  });
  const processed = new Counter({
    name: 'herald_events_processed_total',
    help: 'Deliveries handled successfully (the handler resolved, after immediate retries if any).',
    labelNames: DELIVERY_LABELS,
    registers,
  });
  const failed = new Counter({
    name: 'herald_events_failed_total',
    help: 'Deliveries whose handling failed (handed back for redelivery or dead-lettered), by error type.',
    labelNames: [...DELIVERY_LABELS, 'error_type'] as const,
    registers,
  });
  const retried = new Counter({
    name: 'herald_events_retried_total',
    help: 'Retries: immediate retries started (kind="immediate") and delayed redeliveries scheduled (kind="redelivery").',
    labelNames: [...DELIVERY_LABELS, 'kind'] as const,
    registers,
  });
  const deadLettered = new Counter({
    name: 'herald_events_dead_lettered_total',
    help: 'Deliveries moved to the group dead-letter queue, by reason.',
    labelNames: [...DELIVERY_LABELS, 'reason'] as const,
    registers,
  });
  const skipped = new Counter({
    name: 'herald_events_skipped_total',
    help: 'Deliveries acknowledged without being handled, by reason (reason="unknown-type": no handler for the type).',
    labelNames: [...DELIVERY_LABELS, 'reason'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'herald_handler_duration_seconds',
    help: 'Duration of each handler call (validation, inbox and handler; each immediate retry is one call).',
    labelNames: [...DELIVERY_LABELS, 'outcome'] as const,
    buckets,
    registers,
  });

  const transports = new Set<Transport>();
  new Gauge({
    name: 'herald_consumer_lag',
    help: 'Records of a partition not yet committed by the consumer group, for the partitions this process consumes.',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers,
    async collect() {
      const lags = await Promise.all([...transports].map(async (t) => (await t.consumerLag?.()) ?? []));
      this.reset();
      for (const { group, topic, partition, lag } of lags.flat()) {
        this.set({ group, topic, partition: String(partition) }, lag);
      }
    },
  });

  const outboxes = new Map<string, OutboxBacklogSource>();
  const readBacklogs = async (): Promise<[string, OutboxBacklog][]> =>
    Promise.all(
      [...outboxes].map(async ([name, source]) => [name, await source()] as [string, OutboxBacklog]),
    );
  new Gauge({
    name: 'herald_outbox_backlog',
    help: 'Outbox rows waiting to be published.',
    labelNames: ['outbox'] as const,
    registers,
    async collect() {
      const backlogs = await readBacklogs();
      this.reset();
      for (const [outbox, backlog] of backlogs) this.set({ outbox }, backlog.pending);
    },
  });
  new Gauge({
    name: 'herald_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox row waiting to be published (0 when none waits).',
    labelNames: ['outbox'] as const,
    registers,
    async collect() {
      const backlogs = await readBacklogs();
      this.reset();
      const now = Date.now();
      for (const [outbox, { oldestCreatedAt }] of backlogs) {
        const created = oldestCreatedAt instanceof Date ? oldestCreatedAt.getTime() : oldestCreatedAt;
        this.set({ outbox }, created === undefined ? 0 : Math.max(0, (now - created) / 1000));
      }
    },
  });

  // The label children of one (topic, type, group), cached: the hot path then skips prom-client's label hashing.
  interface Children {
    processed: Counter.Internal;
    retriedImmediate: Counter.Internal;
    retriedRedelivery: Counter.Internal;
    success: Histogram.Internal<string>;
    error: Histogram.Internal<string>;
  }
  const cache = new Map<string, Children>();
  const children = (labels: DeliveryLabels): Children => {
    const key = `${labels.topic}\u0000${labels.type}\u0000${labels.group}`;
    let entry = cache.get(key);
    if (entry === undefined) {
      const { topic, type, group } = labels;
      entry = {
        processed: processed.labels({ topic, type, group }),
        retriedImmediate: retried.labels({ topic, type, group, kind: 'immediate' }),
        retriedRedelivery: retried.labels({ topic, type, group, kind: 'redelivery' }),
        success: duration.labels({ topic, type, group, outcome: 'success' }),
        error: duration.labels({ topic, type, group, outcome: 'error' }),
      };
      cache.set(key, entry);
    }
    return entry;
  };

  let unregister: (() => void) | undefined;
  const metrics: PrometheusMetrics = {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    published(topic, type, count) {
      published.inc({ topic, type }, count);
    },
    processed(labels) {
      children(labels).processed.inc();
    },
    failed({ topic, type, group }, errorType) {
      failed.inc({ topic, type, group, error_type: errorType });
    },
    retried(labels, kind) {
      const entry = children(labels);
      (kind === 'immediate' ? entry.retriedImmediate : entry.retriedRedelivery).inc();
    },
    deadLettered({ topic, type, group }, reason) {
      deadLettered.inc({ topic, type, group, reason });
    },
    skipped({ topic, type, group }, reason) {
      skipped.inc({ topic, type, group, reason });
    },
    handlerDuration(labels, seconds, errorType) {
      const entry = children(labels);
      (errorType === undefined ? entry.success : entry.error).observe(seconds);
    },
    watchTransport(transport) {
      transports.add(transport);
      return () => transports.delete(transport);
    },
    watchOutbox(outbox, source) {
      if (outboxes.has(outbox)) throw configError('outbox', 'a name not watched yet', outbox);
      outboxes.set(outbox, source);
      return () => outboxes.delete(outbox);
    },
    close() {
      unregister?.();
      unregister = undefined;
    },
  };
  if (options.register ?? true) unregister = registerMessagingMetrics(metrics);
  return metrics;
}
