import { randomUUID } from 'node:crypto';
import type { ErrorInfo } from '../errors.ts';
import { configError, ErrorCodes, HeraldError } from '../errors.ts';
import type {
  Assignment,
  LogStore,
  MemberInfo,
  OwnedPartition,
  ParkedRecord,
  ReleaseResult,
  StoredRecord,
  TopicPartition,
} from '../log/log-store.ts';
import { assignPartitions } from '../log/assignment.ts';
import { partitionFor } from '../partitioner.ts';
import { recordDueAt } from '../scheduled-delivery.ts';
import {
  replayedRecord,
  type DeadLetter,
  type DeadLetterFailure,
  type DeadLetterQuery,
  type PublishReceipt,
  type ReplayOptions,
  type SeekTarget,
  type TransportRecord,
} from '../transport.ts';

/** Options of {@link MemoryLogStore}. */
export interface MemoryLogStoreOptions {
  /** Partitions of each new topic. Default 4. */
  readonly partitions?: number;
  /** Member lease, renewed by each consumer's heartbeat timer (so handlers may run longer). Default 3000 ms. */
  readonly sessionTimeoutMs?: number;
}

interface Topic {
  readonly partitions: StoredRecord[][];
  roundRobin: number;
}

interface Group {
  readonly members: Map<string, { topics: readonly string[]; expiresAt: number }>;
  /** tp key -> owner and ownership generation. */
  readonly owners: Map<string, { memberId: string; generation: number }>;
  readonly committed: Map<string, bigint>;
}

const notFound = (id: string): HeraldError =>
  new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`);

const tpKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

/**
 * A {@link LogStore} in process memory: the same semantics as the durable stores (partitions, groups with
 * leases and rebalancing, parking, dead letters), for unit tests. Nothing survives the process.
 */
export class MemoryLogStore implements LogStore {
  readonly name = 'memory';
  readonly persistent = false;
  readonly crossProcess = false;
  readonly sessionTimeoutMs: number;
  readonly #partitions: number;
  readonly #topics = new Map<string, Topic>();
  readonly #groups = new Map<string, Group>();
  readonly #parked = new Map<bigint, ParkedRecord>();
  readonly #deadLetters = new Map<string, DeadLetter & { storedRecord: StoredRecord }>();
  readonly #listeners = new Set<() => void>();
  /** Records held until due, in (due, hold) order. */
  #held: { readonly dueAt: number; readonly record: TransportRecord }[] = [];
  #nextParkId = 1n;
  #generation = 0;
  #wakeScheduled = false;

  constructor(options: MemoryLogStoreOptions = {}) {
    const partitions = options.partitions ?? 4;
    if (!Number.isInteger(partitions) || partitions < 1)
      throw configError('partitions', 'an integer >= 1', partitions);
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 3000;
    if (!(sessionTimeoutMs >= 30)) throw configError('sessionTimeoutMs', 'a number >= 30', sessionTimeoutMs);
    this.#partitions = partitions;
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (topic === undefined) {
      topic = { partitions: Array.from({ length: this.#partitions }, () => []), roundRobin: 0 };
      this.#topics.set(name, topic);
    }
    return topic;
  }

  #group(name: string): Group {
    let group = this.#groups.get(name);
    if (group === undefined) {
      group = { members: new Map(), owners: new Map(), committed: new Map() };
      this.#groups.set(name, group);
    }
    return group;
  }

  #notify(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    queueMicrotask(() => {
      this.#wakeScheduled = false;
      for (const listener of this.#listeners) listener();
    });
  }

  append(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
    const now = Date.now();
    const receipts = records.map((record): PublishReceipt => {
      const dueAt = recordDueAt(record);
      if (dueAt !== undefined && dueAt > now) return this.#hold(record, dueAt);
      return this.#appendOne(record, now);
    });
    this.#notify();
    return Promise.resolve(receipts);
  }

  #appendOne(record: TransportRecord, now: number): PublishReceipt {
    const topic = this.#topic(record.topic);
    const n = topic.partitions.length;
    const partition = record.key === undefined ? topic.roundRobin++ % n : partitionFor(record.key, n);
    const log = topic.partitions[partition]!;
    const offset = BigInt(log.length);
    log.push({ ...record, partition, offset, timestamp: now });
    return { topic: record.topic, partition, offset: offset.toString() };
  }

  #hold(record: TransportRecord, dueAt: number): PublishReceipt {
    // After every held record due at or before it: earliest due first, then hold order.
    let at = this.#held.length;
    while (at > 0 && this.#held[at - 1]!.dueAt > dueAt) at--;
    this.#held.splice(at, 0, { dueAt, record });
    const n = this.#topic(record.topic).partitions.length;
    return {
      topic: record.topic,
      partition: record.key === undefined ? -1 : partitionFor(record.key, n),
      offset: '-1',
      deliverAt: new Date(dueAt).toISOString(),
    };
  }

  releaseDue(now: number, limit: number): Promise<ReleaseResult> {
    let count = 0;
    while (count < limit && count < this.#held.length && this.#held[count]!.dueAt <= now) count++;
    const due = this.#held.splice(0, count);
    const appendedAt = Date.now();
    for (const { record } of due) this.#appendOne(record, appendedAt);
    if (count > 0) this.#notify();
    return Promise.resolve({ released: count, nextDue: this.#held[0]?.dueAt });
  }

  read(topic: string, partition: number, fromOffset: bigint, limit: number): Promise<StoredRecord[]> {
    const log = this.#topic(topic).partitions[partition] ?? [];
    return Promise.resolve(log.slice(Number(fromOffset), Number(fromOffset) + limit));
  }

  endOffset(topic: string, partition: number): Promise<bigint> {
    return Promise.resolve(BigInt(this.#topic(topic).partitions[partition]?.length ?? 0));
  }

  offsetForTime(topic: string, partition: number, time: Date): Promise<bigint> {
    const log = this.#topic(topic).partitions[partition] ?? [];
    const index = log.findIndex((r) => r.timestamp >= time.getTime());
    return Promise.resolve(BigInt(index === -1 ? log.length : index));
  }

  committed(group: string, tp: TopicPartition): Promise<bigint | undefined> {
    return Promise.resolve(this.#group(group).committed.get(tpKey(tp)));
  }

  commit(member: MemberInfo, tp: OwnedPartition, offset: bigint): Promise<boolean> {
    const group = this.#group(member.group);
    const owner = group.owners.get(tpKey(tp));
    if (owner?.memberId !== member.memberId || owner.generation !== tp.generation)
      return Promise.resolve(false);
    group.committed.set(tpKey(tp), offset);
    return Promise.resolve(true);
  }

  heartbeat(member: MemberInfo): Promise<Assignment> {
    const now = Date.now();
    const group = this.#group(member.group);
    group.members.set(member.memberId, { topics: member.topics, expiresAt: now + this.sessionTimeoutMs });
    for (const [id, m] of group.members) if (m.expiresAt <= now) group.members.delete(id);
    this.#rebalance(group);
    const partitions: OwnedPartition[] = [];
    for (const [key, owner] of group.owners) {
      if (owner.memberId !== member.memberId) continue;
      const [topic, partition] = key.split('\u0000') as [string, string];
      partitions.push({ topic, partition: Number(partition), generation: owner.generation });
    }
    return Promise.resolve({ partitions });
  }

  #rebalance(group: Group): void {
    const members = [...group.members].map(([memberId, m]) => ({ memberId, topics: m.topics }));
    for (const m of members) for (const t of m.topics) this.#topic(t);
    const target = assignPartitions(
      members,
      (topic) => this.#topics.get(topic)?.partitions.length ?? this.#partitions,
    );
    for (const key of group.owners.keys()) if (!target.has(key)) group.owners.delete(key);
    for (const [key, memberId] of target) {
      const owner = group.owners.get(key);
      if (owner?.memberId !== memberId) group.owners.set(key, { memberId, generation: ++this.#generation });
    }
  }

  leave(member: MemberInfo): Promise<void> {
    const group = this.#group(member.group);
    group.members.delete(member.memberId);
    this.#rebalance(group);
    return Promise.resolve();
  }

  park(
    group: string,
    record: StoredRecord,
    attempt: number,
    dueAt: number,
    _error?: ErrorInfo,
  ): Promise<void> {
    const parkId = this.#nextParkId++;
    this.#parked.set(parkId, { parkId, group, record, attempt, dueAt });
    this.#notify();
    return Promise.resolve();
  }

  parked(group: string, partitions: readonly TopicPartition[]): Promise<ParkedRecord[]> {
    const wanted = new Set(partitions.map(tpKey));
    const list = [...this.#parked.values()].filter(
      (p) => p.group === group && wanted.has(tpKey({ topic: p.record.topic, partition: p.record.partition })),
    );
    return Promise.resolve(list.sort((a, b) => (a.parkId < b.parkId ? -1 : 1)));
  }

  reschedule(parkId: bigint, attempt: number, dueAt: number, _error?: ErrorInfo): Promise<void> {
    const parked = this.#parked.get(parkId);
    if (parked !== undefined) this.#parked.set(parkId, { ...parked, attempt, dueAt });
    return Promise.resolve();
  }

  unpark(parkId: bigint): Promise<void> {
    this.#parked.delete(parkId);
    return Promise.resolve();
  }

  deadLetter(group: string, record: StoredRecord, failure: DeadLetterFailure): Promise<void> {
    const id = randomUUID();
    this.#deadLetters.set(id, {
      id,
      group,
      record: { topic: record.topic, key: record.key, attributes: record.attributes, data: record.data },
      partition: record.partition,
      offset: record.offset.toString(),
      failure,
      deadLetteredAt: new Date().toISOString(),
      storedRecord: record,
    });
    return Promise.resolve();
  }

  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const list = [...this.#deadLetters.values()]
      .filter(
        (d) =>
          (query.group === undefined || d.group === query.group) &&
          (query.topic === undefined || d.record.topic === query.topic),
      )
      .slice(0, query.limit ?? 100)
      .map(({ storedRecord: _stored, ...deadLetter }) => deadLetter);
    return Promise.resolve(list);
  }

  getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const found = this.#deadLetters.get(id);
    if (found === undefined) return Promise.resolve(undefined);
    const { storedRecord: _stored, ...deadLetter } = found;
    return Promise.resolve(deadLetter);
  }

  async replayDeadLetter(id: string, options: ReplayOptions = {}): Promise<void> {
    const found = this.#deadLetters.get(id);
    if (found === undefined) throw notFound(id);
    this.#deadLetters.delete(id);
    const record = replayedRecord(found.storedRecord, options);
    await this.park(found.group, record, 1, Date.now());
  }

  discardDeadLetter(id: string): Promise<void> {
    if (!this.#deadLetters.delete(id)) return Promise.reject(notFound(id));
    return Promise.resolve();
  }

  async seek(groupName: string, topicName: string, target: SeekTarget): Promise<void> {
    const group = this.#group(groupName);
    const topic = this.#topic(topicName);
    for (let partition = 0; partition < topic.partitions.length; partition++) {
      const tp = { topic: topicName, partition };
      let offset: bigint;
      if (target === 'earliest') offset = 0n;
      else if (target === 'latest') offset = await this.endOffset(topicName, partition);
      else if ('offset' in target) offset = BigInt(target.offset);
      else offset = await this.offsetForTime(topicName, partition, target.time);
      group.committed.set(tpKey(tp), offset);
      const owner = group.owners.get(tpKey(tp));
      if (owner !== undefined) owner.generation = ++this.#generation;
    }
  }

  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Nothing to release: transports sharing this store remove their own listeners when they close. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
