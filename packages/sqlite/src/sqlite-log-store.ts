import {
  configError,
  ErrorCodes,
  HeraldError,
  type Assignment,
  type DeadLetter,
  type DeadLetterFailure,
  type DeadLetterQuery,
  type ErrorInfo,
  type LogStore,
  type MemberInfo,
  type OwnedPartition,
  type ParkedRecord,
  type PublishReceipt,
  type ReleaseResult,
  type ReplayOptions,
  type SeekTarget,
  type StoredRecord,
  type TopicPartition,
  type TransportRecord,
} from '@herald/core';
import { DeadLetterStore } from './sqlite-dead-letters.ts';
import { GroupCoordinator } from './sqlite-groups.ts';
import { resolveSqliteOptions, type SqliteDurability, type SqliteLogStoreOptions } from './sqlite-options.ts';
import { ParkingLot } from './sqlite-parking.ts';
import { PartitionLog } from './sqlite-partition-log.ts';
import { RetentionSweeper } from './sqlite-retention.ts';
import { ScheduledTable } from './scheduled-table.ts';
import { MAX_OFFSET, openLogDatabase, SCHEDULED_LAYOUT, type SqliteDatabase } from './sqlite-schema.ts';
import { TopicCatalog } from './sqlite-topics.ts';
import { WakeSignal } from './sqlite-wake.ts';
import { WalSync } from './sqlite-wal-sync.ts';

interface PendingAppend {
  readonly records: readonly TransportRecord[];
  readonly resolve: (receipts: PublishReceipt[]) => void;
  readonly reject: (error: Error) => void;
}

function storeError(operation: string, error: unknown): HeraldError {
  if (error instanceof HeraldError) return error;
  return new HeraldError(ErrorCodes.TRANSPORT, `SQLite log store: ${operation} failed`, { cause: error });
}

/**
 * A {@link LogStore} in a SQLite file (WAL mode) that every process of the machine can open at once: the
 * embedded durable log under the `sqlite()` transport, also usable directly by tools (dead-letter operations).
 *
 * An acknowledged append survives a process crash (`D1`), or was fsynced to the disk (`D2`). Appends made in
 * the same turn of the event loop are committed in one transaction (each call still all-or-nothing, in call
 * order).
 * Offsets of a partition are dense and increasing from 0. Membership, ownership generations and commits are
 * transactional across processes. Other processes' appends and parks wake this process's watchers within
 * about a millisecond (see `sqlite-wake.ts`).
 */
export class SqliteLogStore implements LogStore {
  readonly name = 'sqlite';
  readonly persistent = true;
  readonly crossProcess = true;
  readonly sessionTimeoutMs: number;
  /** The database file. */
  readonly path: string;
  readonly durability: SqliteDurability;
  readonly #db: SqliteDatabase;
  readonly #topics: TopicCatalog;
  readonly #log: PartitionLog;
  readonly #scheduled: ScheduledTable;
  readonly #groups: GroupCoordinator;
  readonly #parking: ParkingLot;
  readonly #deadLetters: DeadLetterStore;
  readonly #wake: WakeSignal;
  readonly #retention: RetentionSweeper | undefined;
  readonly #walSync: WalSync | undefined;
  readonly #seekTx;
  #pending: PendingAppend[] = [];
  #flushScheduled = false;
  #closing: Promise<void> | undefined;

  /**
   * Opens (or creates) the database. Throws `HERALD_CONFIG` for invalid options, `HERALD_TRANSPORT` if the file
   * cannot be opened.
   */
  constructor(options: SqliteLogStoreOptions) {
    const resolved = resolveSqliteOptions(options);
    this.path = resolved.path;
    this.durability = resolved.durability;
    this.sessionTimeoutMs = resolved.sessionTimeoutMs;
    const db = openLogDatabase(resolved);
    this.#db = db;
    this.#topics = new TopicCatalog(db, resolved.partitions);
    this.#scheduled = new ScheduledTable(db, SCHEDULED_LAYOUT);
    this.#log = new PartitionLog(db, this.#topics, this.#scheduled);
    this.#walSync = resolved.durability === 'D2' ? new WalSync(resolved.path) : undefined;
    this.#groups = new GroupCoordinator(db, this.#topics, resolved.sessionTimeoutMs);
    this.#parking = new ParkingLot(db);
    this.#deadLetters = new DeadLetterStore(db, this.#parking);
    const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.#wake = new WakeSignal(`${resolved.path}-wake`, () => dataVersion.get()!);
    this.#seekTx = db.transaction((group: string, topic: string, target: SeekTarget) =>
      this.#seek(group, topic, target),
    );
    if (resolved.retention !== undefined) {
      this.#retention = new RetentionSweeper(db, this.#log, resolved.retention);
      this.#retention.start();
    }
  }

  /** Runs `operation` on the open database, as a promise; SQLite failures become `HERALD_TRANSPORT`. */
  #run<T>(operation: string, fn: () => T): Promise<T> {
    if (this.#closing !== undefined) {
      return Promise.reject(new HeraldError(ErrorCodes.CLOSED, `SQLite log store ${this.path} is closed`));
    }
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(storeError(operation, error));
    }
  }

  append(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
    if (this.#closing !== undefined) return this.#run('append', () => []);
    if (records.length === 0) return Promise.resolve([]);
    const invalid = records.find(isInvalid);
    if (invalid !== undefined) {
      return Promise.reject(
        new HeraldError(ErrorCodes.TRANSPORT, 'SQLite log store: append of an invalid record', {
          permanent: true,
          details: { topic: invalid.topic, key: invalid.key },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ records, resolve, reject });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    });
  }

  // Group commit: every append of this turn in one transaction, then (D2) one fsync for all of them.
  #flush(): void {
    this.#flushScheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return;
    const outcomes: (PublishReceipt[] | Error)[] = [];
    try {
      outcomes.push(...this.#log.append(pending.map((p) => p.records)));
    } catch (error) {
      // A HeraldError comes from one call's records (a full partition): retry the others alone. A SQLite error
      // (busy, I/O) would only repeat, once per call, each after the busy timeout: fail them all at once.
      if (pending.length > 1 && error instanceof HeraldError) {
        for (const p of pending) outcomes.push(this.#appendAlone(p.records));
      } else {
        outcomes.push(...pending.map(() => storeError('append', error)));
      }
    }
    try {
      this.#walSync?.sync();
    } catch (error) {
      // Stored, but not known to be on the disk: not acknowledged at D2.
      outcomes.fill(storeError('append (fsync)', error));
    }
    pending.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (outcome instanceof Error) p.reject(outcome);
      else p.resolve(outcome);
    });
    this.#wake.notify();
  }

  #appendAlone(records: readonly TransportRecord[]): PublishReceipt[] | Error {
    try {
      return this.#log.append([records])[0]!;
    } catch (error) {
      return storeError('append', error);
    }
  }

  releaseDue(now: number, limit: number): Promise<ReleaseResult> {
    return this.#run('releaseDue', () => {
      const result = this.#log.release(now, limit);
      if (result.released > 0) {
        this.#walSync?.sync();
        this.#wake.notify();
      }
      return result;
    });
  }

  /** How many records are held for scheduled delivery (not yet appended). */
  scheduledCount(): Promise<number> {
    return this.#run('scheduledCount', () => this.#scheduled.count());
  }

  read(topic: string, partition: number, fromOffset: bigint, limit: number): Promise<StoredRecord[]> {
    return this.#run('read', () => this.#log.read(topic, partition, fromOffset, limit));
  }

  endOffset(topic: string, partition: number): Promise<bigint> {
    return this.#run('endOffset', () => BigInt(this.#log.endOffset(topic, partition)));
  }

  offsetForTime(topic: string, partition: number, time: Date): Promise<bigint> {
    return this.#run('offsetForTime', () =>
      BigInt(this.#log.offsetForTime(topic, partition, time.getTime())),
    );
  }

  committed(group: string, tp: TopicPartition): Promise<bigint | undefined> {
    return this.#run('committed', () => this.#groups.committed(group, tp));
  }

  commit(member: MemberInfo, tp: OwnedPartition, offset: bigint): Promise<boolean> {
    return this.#run('commit', () => this.#groups.commit(member, tp, offset));
  }

  heartbeat(member: MemberInfo): Promise<Assignment> {
    return this.#run('heartbeat', () => this.#groups.heartbeat(member));
  }

  leave(member: MemberInfo): Promise<void> {
    return this.#run('leave', () => this.#groups.leave(member));
  }

  park(
    group: string,
    record: StoredRecord,
    attempt: number,
    dueAt: number,
    error?: ErrorInfo,
  ): Promise<void> {
    return this.#run('park', () => {
      this.#parking.park(group, record, attempt, dueAt, error);
      this.#wake.notify();
    });
  }

  parked(group: string, partitions: readonly TopicPartition[]): Promise<ParkedRecord[]> {
    return this.#run('parked', () => this.#parking.parked(group, partitions));
  }

  reschedule(parkId: bigint, attempt: number, dueAt: number, error?: ErrorInfo): Promise<void> {
    return this.#run('reschedule', () => this.#parking.reschedule(parkId, attempt, dueAt, error));
  }

  unpark(parkId: bigint): Promise<void> {
    return this.#run('unpark', () => this.#parking.unpark(parkId));
  }

  deadLetter(group: string, record: StoredRecord, failure: DeadLetterFailure): Promise<void> {
    return this.#run('deadLetter', () => {
      this.#deadLetters.add(group, record, failure);
    });
  }

  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    return this.#run('listDeadLetters', () => this.#deadLetters.list(query));
  }

  getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    return this.#run('getDeadLetter', () => this.#deadLetters.get(id));
  }

  /** Throws `HERALD_DEAD_LETTER_NOT_FOUND` if the id is not in the queue. */
  replayDeadLetter(id: string, options?: ReplayOptions): Promise<void> {
    return this.#run('replayDeadLetter', () => {
      this.#deadLetters.replay(id, options);
      this.#wake.notify();
    });
  }

  /** Throws `HERALD_DEAD_LETTER_NOT_FOUND` if the id is not in the queue. */
  discardDeadLetter(id: string): Promise<void> {
    return this.#run('discardDeadLetter', () => this.#deadLetters.discard(id));
  }

  /** Creates the topic if needed, and moves the group on every partition in one transaction. */
  seek(group: string, topic: string, target: SeekTarget): Promise<void> {
    return this.#run('seek', () => {
      this.#topics.ensure(topic);
      this.#seekTx.immediate(group, topic, target);
    });
  }

  #seek(group: string, topic: string, target: SeekTarget): void {
    const info = this.#topics.ensure(topic);
    for (let partition = 0; partition < info.partitionIds.length; partition++) {
      let offset: number;
      if (target === 'earliest') offset = this.#log.firstOffset(topic, partition);
      else if (target === 'latest') offset = this.#log.endOffset(topic, partition);
      else if ('offset' in target) offset = parseOffset(target.offset);
      else offset = this.#log.offsetForTime(topic, partition, target.time.getTime());
      this.#groups.setPosition(group, { topic, partition }, offset);
    }
  }

  watch(listener: () => void): () => void {
    return this.#wake.watch(listener);
  }

  /**
   * Runs a retention sweep now (when `retention` was configured), even if another process swept recently.
   * Resolves with the number of records deleted.
   */
  sweepRetention(): Promise<number> {
    if (this.#retention === undefined) return Promise.resolve(0);
    return this.#retention.sweep({ force: true });
  }

  /** Commits pending appends, stops watching and sweeping, and closes the database. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#flush();
    await this.#retention?.close();
    this.#wake.close();
    this.#walSync?.close();
    this.#db.close();
  }
}

// Checked before queueing, so a bad record fails its own call only (SQLite would store a string as data).
function isInvalid(record: TransportRecord): boolean {
  return (
    typeof record.topic !== 'string' ||
    record.topic.length === 0 ||
    !(record.data instanceof Uint8Array) ||
    (record.key !== undefined && typeof record.key !== 'string') ||
    typeof record.attributes !== 'object' ||
    record.attributes === null
  );
}

function parseOffset(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_OFFSET) {
    throw configError('offset', `a decimal integer string from 0 to ${MAX_OFFSET}`, value);
  }
  return Number(value);
}

/** Opens a {@link SqliteLogStore}: for tools that work on the log directly (dead letters, positions). */
export function sqliteLogStore(options: SqliteLogStoreOptions): SqliteLogStore {
  return new SqliteLogStore(options);
}
