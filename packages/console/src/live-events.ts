import type { Delivery, Subscription, Transport, TransportRecord } from '@herald/core';

/** One event as the console shows it: its CloudEvents attributes, where it landed, and its decoded data. */
export interface ObservedEvent {
  /** The console's own sequence number (1, 2...), the SSE event id: a reconnecting browser resumes after it. */
  readonly seq: number;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly id: string | undefined;
  readonly type: string | undefined;
  readonly source: string | undefined;
  readonly subject: string | undefined;
  /** The event's `time`, else when the console received it. */
  readonly time: string;
  readonly correlationId: string | undefined;
  /** The trace the event belongs to (from its `traceparent`), when it has one. */
  readonly traceId: string | undefined;
  /** Parsed JSON when the payload is JSON, else its text; cut at {@link MAX_DATA_BYTES}. */
  readonly data: unknown;
  readonly attributes: Readonly<Record<string, string>>;
}

/** A filter on the live stream: case-insensitive substrings of the type and of the partition key. */
export interface EventFilter {
  readonly type?: string | undefined;
  readonly key?: string | undefined;
}

/** Payloads above this size are shown as text, cut. */
export const MAX_DATA_BYTES = 16 * 1024;

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

function decode(record: TransportRecord): unknown {
  const text = new TextDecoder().decode(record.data.subarray(0, MAX_DATA_BYTES));
  const type = record.attributes.datacontenttype;
  if (record.data.length <= MAX_DATA_BYTES && (type === undefined || /json/i.test(type))) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return record.data.length > MAX_DATA_BYTES ? `${text}… (${record.data.length} bytes)` : text;
}

/** Whether `event` passes `filter`. */
export function matches(event: ObservedEvent, filter: EventFilter): boolean {
  const has = (value: string | undefined, part: string | undefined) =>
    part === undefined || part === '' || (value ?? '').toLowerCase().includes(part.toLowerCase());
  return has(event.type, filter.type) && has(event.key, filter.key);
}

/** Whether `event` is about `subject`: its partition key, its CloudEvents subject, or an `orderId` in its data. */
export function concerns(event: ObservedEvent, subject: string): boolean {
  if (event.key === subject || event.subject === subject) return true;
  const data = event.data as { orderId?: unknown } | null;
  return typeof data === 'object' && data !== null && data.orderId === subject;
}

/**
 * The live stream: a subscription of the console's own consumer group to the watched topics, starting at the
 * newest events (so it never competes with the services' groups and never replays history), and the last
 * `bufferSize` events kept in memory for the stream view and the order timelines. Every delivery is acked at once:
 * the console observes, it never fails an event.
 */
export class LiveEvents {
  readonly #buffer: ObservedEvent[] = [];
  readonly #listeners = new Set<(event: ObservedEvent) => void>();
  readonly #counts = new Map<string, number>();
  #seq = 0;
  #subscription: Subscription | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly options: { group: string; topics: readonly string[]; bufferSize: number },
  ) {}

  /** The watched topics. */
  get topics(): readonly string[] {
    return this.options.topics;
  }

  /** Subscribes; resolves once the subscription receives. Without topics there is nothing to watch. */
  async start(): Promise<void> {
    if (this.options.topics.length === 0) return;
    this.#subscription = this.transport.subscribe(
      { group: this.options.group, topics: this.options.topics, concurrency: 64, startFrom: 'latest' },
      (delivery) => this.#observe(delivery),
    );
    await this.#subscription.ready;
  }

  async #observe(delivery: Delivery): Promise<void> {
    const { record } = delivery;
    const { attributes } = record;
    const event: ObservedEvent = {
      seq: ++this.#seq,
      topic: record.topic,
      partition: delivery.partition,
      offset: delivery.offset,
      key: record.key,
      id: attributes.id,
      type: attributes.type,
      source: attributes.source,
      subject: attributes.subject,
      time: attributes.time ?? new Date().toISOString(),
      correlationId: attributes.correlationid,
      traceId: TRACEPARENT.exec(attributes.traceparent ?? '')?.[1],
      data: decode(record),
      attributes,
    };
    this.#buffer.push(event);
    if (this.#buffer.length > this.options.bufferSize) this.#buffer.shift();
    this.#counts.set(record.topic, (this.#counts.get(record.topic) ?? 0) + 1);
    for (const listener of this.#listeners) listener(event);
    await delivery.ack();
  }

  /** The buffered events passing `filter` with a sequence number above `afterSeq`, oldest first, at most `limit`. */
  recent(filter: EventFilter = {}, options: { afterSeq?: number; limit?: number } = {}): ObservedEvent[] {
    const after = options.afterSeq ?? 0;
    const found = this.#buffer.filter((event) => event.seq > after && matches(event, filter));
    return found.slice(-(options.limit ?? 200));
  }

  /** The buffered events about `subject` (see {@link concerns}), oldest first. */
  about(subject: string): ObservedEvent[] {
    return this.#buffer.filter((event) => concerns(event, subject));
  }

  /** The arrival time of the oldest buffered event: timelines are complete from then on. */
  oldestTime(): string | undefined {
    return this.#buffer[0]?.time;
  }

  /** Events seen per topic since start. */
  counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /** Calls `listener` with each new event; returns the unsubscribe function. */
  listen(listener: (event: ObservedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#subscription?.close({ timeoutMs: 2000 });
  }
}
