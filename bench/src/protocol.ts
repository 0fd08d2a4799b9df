// What the orchestrator (run.ts) and the child processes (worker.ts) say to each other over the IPC channel.

/** The systems compared: B1 (embedded), B2 (Kafka), B3 (RabbitMQ, NATS JetStream), B5 (Herald's API, traced or not). */
export type PeerKind =
  | 'sqlite-raw'
  | 'bullmq'
  | 'jetstream'
  | 'herald'
  | 'herald-api'
  | 'kafka-raw'
  | 'kafkajs'
  | 'herald-kafka'
  | 'amqplib'
  | 'herald-rabbitmq'
  | 'nats-raw'
  | 'herald-nats';

/** `D1` survives a process crash, `D2` fsyncs before the ack (see docs/benchmarks.md). */
export type Durability = 'D1' | 'D2';

/** `single`: 1 producer, 1 consumer; `competing`: 2 consumers sharing one group; `groups`: 2 groups of 1. */
export type Variant = 'single' | 'competing' | 'groups';

/**
 * `throughput`: publish `count` events as fast as possible while consumers read them; `latency`: publish at `rate`
 * events/s. Producer alone: `publish-one` awaits each single-event publish before the next, `publish-batch`
 * awaits each call of `batch` events before the next. Consumer alone: `consume` reads `count` events stored
 * before the trial starts.
 */
export type Mode = 'throughput' | 'latency' | 'publish-one' | 'publish-batch' | 'consume';

/** One trial: a fresh producer and fresh consumers on fresh resources (file, queue, stream). */
export interface TrialSpec {
  readonly system: string;
  readonly peer: PeerKind;
  readonly durability: Durability;
  readonly variant: Variant;
  readonly mode: Mode;
  /** Events published in the trial. */
  readonly count: number;
  /** Offered rate in latency mode, events/s. */
  readonly rate: number;
  /** Events per publish call (throughput mode). */
  readonly batch: number;
  /** Publish calls in flight at once (throughput mode). */
  readonly window: number;
  /** Bytes of event data (B2, B3: a padded JSON body); 0 for B1's order event. */
  readonly payloadBytes: number;
  /** Names created for this trial by the system's setup: file path, queue, stream, subject. */
  readonly resources: Readonly<Record<string, string>>;
}

/** Where a consumer process sits: its group, and its index among the members of that group. */
export interface Placement {
  readonly group: string;
  readonly member: number;
  readonly members: number;
}

export type WorkerArgs =
  | { readonly role: 'producer'; readonly spec: TrialSpec }
  | { readonly role: 'consumer'; readonly spec: TrialSpec; readonly placement: Placement };

/** CPU and memory of one process over the measured window. */
export interface ProcessUsage {
  /** User + system CPU time from `start` to the end of its work, µs. */
  readonly cpuUs: number;
  /** Peak resident set size over the process's life, KiB. */
  readonly maxRssKb: number;
}

export interface ProducerResult extends ProcessUsage {
  /** Events whose publish call was acknowledged, counted as the calls resolved. */
  readonly published: number;
  /** {@link nowUs} at the first publish call and after the last acknowledgement. */
  readonly firstUs: number;
  readonly lastUs: number;
  /** Per-call publish latency, µs (latency mode only). */
  readonly publishUs: number[];
}

export interface ConsumerResult extends ProcessUsage {
  readonly received: number;
  readonly distinct: number;
  readonly duplicates: number;
  readonly firstUs: number;
  readonly lastUs: number;
  /** End-to-end latency per delivery, µs (latency mode only). */
  readonly e2eUs: number[];
}

export type ParentMessage = { readonly type: 'start' } | { readonly type: 'finish' };

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly distinct: number }
  | { readonly type: 'producer-result'; readonly result: ProducerResult }
  | { readonly type: 'consumer-result'; readonly result: ConsumerResult }
  /** The result of a process of a suite with its own processes (B4, lanes). */
  | { readonly type: 'result'; readonly result: unknown }
  | { readonly type: 'error'; readonly message: string }
  /** A suite's own message (B4's phase reports), passed to `Child.onMessage`. */
  | { readonly type: 'phase-done'; readonly [field: string]: unknown };
