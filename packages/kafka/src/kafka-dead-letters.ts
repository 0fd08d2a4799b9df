import {
  ErrorCodes,
  HeraldError,
  type DeadLetter,
  type DeadLetterQuery,
  type DeadLetterQueue,
  type ReplayOptions,
} from '@herald/core';
import { Consumer, ListOffsetTimestamps, type KafkaRecord } from '@platformatic/kafka';
import { decodeKafkaRecord, encodeHeaders } from './cloudevents-binding.ts';
import {
  parseDeadLetterControl,
  parseResolutionControl,
  resolutionControl,
  retryControl,
  type Origin,
} from './envelopes.ts';
import { closeClient, retryTopicSpec, type KafkaContext } from './kafka-context.ts';
import { closedError, transportError } from './kafka-errors.ts';

interface Entry {
  readonly deadLetter: DeadLetter;
  readonly origin: Origin;
  /** Where the entry sits in the dead-letter topic. */
  readonly offset: bigint;
}

/** What this process has read of one group's dead-letter topic. */
interface View {
  nextOffset: bigint;
  readonly entries: Map<bigint, Entry>;
}

const DEFAULT_LIMIT = 100;

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The dead-letter queue over each group's dead-letter topic (`<prefix>.<group>.dlq`, one partition).
 *
 * An entry is a record appended when a delivery is dead-lettered: the original key, data and `ce_` headers,
 * plus `herald-*` headers with the group, origin and failure. The topic is append-only, so replaying or
 * discarding an entry appends a resolution marker (`herald-resolves: <offset>`, no `ce_` headers) that hides it;
 * listing reads the topic once and then only what was appended since. The trade-off: the topic keeps resolved
 * entries until retention removes them (none by default), and a plain consumer of the topic sees the markers.
 *
 * A replay appends the record to the failed group's retry topic (attempt 1, due now): only that group sees it
 * again; the other subscribers of the original topic do not.
 */
export class KafkaDeadLetterQueue implements DeadLetterQueue {
  readonly #ctx: KafkaContext;
  readonly #views = new Map<string, View>();
  readonly #refreshing = new Map<string, Promise<View>>();
  #reader: Consumer | undefined;
  #closed = false;

  constructor(ctx: KafkaContext) {
    this.#ctx = ctx;
  }

  async list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    this.#assertOpen('list dead letters');
    let groups: string[];
    if (query.group !== undefined) {
      groups = [query.group];
    } else {
      const topics = await this.#ctx.topics.list();
      groups = topics.flatMap((topic) => this.#ctx.names.groupOfDeadLetter(topic) ?? []);
    }
    const found: Entry[] = [];
    for (const group of groups) {
      const view = await this.#refresh(group);
      for (const entry of view.entries.values()) {
        if (query.topic === undefined || entry.deadLetter.record.topic === query.topic) found.push(entry);
      }
    }
    found.sort(
      (a, b) =>
        a.deadLetter.deadLetteredAt.localeCompare(b.deadLetter.deadLetteredAt) ||
        a.deadLetter.id.localeCompare(b.deadLetter.id),
    );
    return found.slice(0, query.limit ?? DEFAULT_LIMIT).map((entry) => entry.deadLetter);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    return (await this.#find(id))?.deadLetter;
  }

  async replay(id: string, options: ReplayOptions = {}): Promise<void> {
    const found = await this.#find(id);
    if (found === undefined) {
      throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`);
    }
    const { deadLetter, origin, offset } = found;
    const { group, record } = deadLetter;
    const { names, topics, options: o } = this.#ctx;
    const retryTopic = names.retry(group);
    const partitions =
      (await topics.existing(retryTopic)) ??
      (await topics.ensure(retryTopic, retryTopicSpec(Math.max(o.partitions, origin.partition + 1))));
    const key = record.key === undefined ? undefined : Buffer.from(record.key, 'utf8');
    try {
      // The copy first, then the marker: a crash in between replays twice rather than never.
      await this.#ctx.sender.send([
        {
          topic: retryTopic,
          partition: origin.partition % partitions,
          key,
          value: toBuffer(options.data ?? record.data),
          headers: encodeHeaders(
            { ...record.attributes, ...options.attributes },
            retryControl({ group, origin, attempt: 1, dueAt: 0 }),
          ),
        },
        {
          topic: names.deadLetter(group),
          partition: 0,
          key: undefined,
          value: Buffer.alloc(0),
          headers: encodeHeaders({}, resolutionControl(offset, 'replayed')),
        },
      ]);
    } catch (error) {
      throw transportError(`replay dead letter ${id}`, error);
    }
    this.#views.get(group)?.entries.delete(offset);
  }

  async discard(id: string): Promise<void> {
    const found = await this.#find(id);
    if (found === undefined) return;
    const group = found.deadLetter.group;
    try {
      await this.#ctx.sender.send([
        {
          topic: this.#ctx.names.deadLetter(group),
          partition: 0,
          key: undefined,
          value: Buffer.alloc(0),
          headers: encodeHeaders({}, resolutionControl(found.offset, 'discarded')),
        },
      ]);
    } catch (error) {
      throw transportError(`discard dead letter ${id}`, error);
    }
    this.#views.get(group)?.entries.delete(found.offset);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader !== undefined) await closeClient(reader).catch(() => undefined);
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw closedError(what);
  }

  async #find(id: string): Promise<Entry | undefined> {
    this.#assertOpen('read dead letters');
    const slash = id.lastIndexOf('/');
    const group = id.slice(0, slash);
    const offset = id.slice(slash + 1);
    if (slash <= 0 || !/^\d+$/.test(offset)) return undefined;
    const view = await this.#refresh(group);
    return view.entries.get(BigInt(offset));
  }

  /** Reads what was appended to the group's dead-letter topic since the last look. */
  #refresh(group: string): Promise<View> {
    let running = this.#refreshing.get(group);
    if (running === undefined) {
      running = this.#read(group).finally(() => this.#refreshing.delete(group));
      this.#refreshing.set(group, running);
    }
    return running;
  }

  async #read(group: string): Promise<View> {
    let view = this.#views.get(group);
    if (view === undefined) {
      view = { nextOffset: 0n, entries: new Map() };
      this.#views.set(group, view);
    }
    const topic = this.#ctx.names.deadLetter(group);
    if ((await this.#ctx.topics.existing(topic)) === undefined) return view;
    const reader = (this.#reader ??= this.#createReader());
    try {
      const partitions = { [topic]: [0] };
      const [earliest, latest] = await Promise.all([
        reader.listOffsets({ topics: [topic], partitions, timestamp: ListOffsetTimestamps.EARLIEST }),
        reader.listOffsets({ topics: [topic], partitions, timestamp: ListOffsetTimestamps.LATEST }),
      ]);
      const start = earliest.get(topic)?.[0] ?? 0n;
      const end = latest.get(topic)?.[0] ?? 0n;
      if (view.nextOffset < start) view.nextOffset = start;
      while (view.nextOffset < end) {
        const metadata = await reader.metadata({ topics: [topic] });
        const described = metadata.topics.get(topic)!;
        const response = await reader.fetch({
          node: described.partitions[0]!.leader,
          topics: [
            {
              topicId: described.id,
              partitions: [
                {
                  partition: 0,
                  fetchOffset: view.nextOffset,
                  partitionMaxBytes: this.#ctx.options.fetchMaxBytesPerPartition,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
          maxWaitTime: 0,
          minBytes: 0,
        });
        const before = view.nextOffset;
        for (const batch of response.responses[0]?.partitions[0]?.records ?? []) {
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta);
            if (offset >= view.nextOffset) this.#apply(view, group, offset, record);
          }
          const next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          if (next > view.nextOffset) view.nextOffset = next;
        }
        if (view.nextOffset === before) break;
      }
    } catch (error) {
      throw transportError(`read the dead letters of group "${group}"`, error);
    }
    return view;
  }

  #apply(view: View, group: string, offset: bigint, raw: KafkaRecord): void {
    const { record, control } = decodeKafkaRecord('', raw.key, raw.value, raw.headers);
    const resolution = parseResolutionControl(control);
    if (resolution !== undefined) {
      view.entries.delete(resolution.offset);
      return;
    }
    const envelope = parseDeadLetterControl(control);
    if (envelope === undefined) return; // not written by Herald
    view.entries.set(offset, {
      offset,
      origin: envelope.origin,
      deadLetter: {
        id: `${group}/${offset}`,
        group: envelope.group === '' ? group : envelope.group,
        record: { ...record, topic: envelope.origin.topic },
        partition: envelope.origin.partition,
        offset: envelope.origin.offset.toString(),
        failure: envelope.failure,
        deadLetteredAt: envelope.deadLetteredAt,
      },
    });
  }

  #createReader(): Consumer {
    const reader = new Consumer({
      ...this.#ctx.clientOptions('dlq-reader'),
      // Never joins: it only fetches with explicit offsets.
      groupId: `${this.#ctx.options.clientId}-dlq-reader`,
    });
    reader.on('error', (error: unknown) => this.#ctx.reportError('dead-letter reader', error));
    return reader;
  }
}
