import { ErrorCodes, HeraldError } from '@herald/core';
import { MAX_PARTITION_ID, type SqliteDatabase } from './sqlite-schema.ts';

/** A topic as this process knows it: the row id of each partition, in partition order. */
export interface TopicInfo {
  readonly name: string;
  /** `partitionIds[p]` is the `partitions.id` of partition `p`. */
  readonly partitionIds: readonly number[];
}

/**
 * The topics of a log database and their fixed partition counts. The count is recorded by whichever process
 * creates the topic first and never changes, so this process caches what it has read, but only what it read
 * outside a transaction, or created in a transaction of its own: a topic seen inside a caller's transaction
 * may be rolled back with it. Callers ensure their topics before opening a transaction, so the cache serves
 * the hot path.
 */
export class TopicCatalog {
  readonly #db: SqliteDatabase;
  readonly #defaultPartitions: number;
  readonly #cache = new Map<string, TopicInfo>();
  readonly #turns = new Map<string, number>();
  readonly #selectPartitions;
  readonly #create;

  constructor(db: SqliteDatabase, defaultPartitions: number) {
    this.#db = db;
    this.#defaultPartitions = defaultPartitions;
    this.#selectPartitions = db.prepare<[string], { id: number }>(
      'SELECT id FROM partitions WHERE topic = ? ORDER BY part',
    );
    const insertTopic = db.prepare<[string, number, number]>(
      'INSERT OR IGNORE INTO topics (name, partitions, created_at) VALUES (?, ?, ?)',
    );
    const selectCount = db.prepare<[string], number>('SELECT partitions FROM topics WHERE name = ?').pluck();
    const insertPartition = db.prepare<[string, number]>(
      'INSERT OR IGNORE INTO partitions (topic, part) VALUES (?, ?)',
    );
    this.#create = db.transaction((name: string): number[] => {
      insertTopic.run(name, this.#defaultPartitions, Date.now());
      const count = selectCount.get(name)!;
      for (let part = 0; part < count; part++) insertPartition.run(name, part);
      const ids = this.#selectPartitions.all(name).map((row) => row.id);
      if (ids.some((id) => id > MAX_PARTITION_ID)) {
        throw new HeraldError(
          ErrorCodes.TRANSPORT,
          `Too many partitions in the log database (topic ${name})`,
        );
      }
      return ids;
    });
  }

  /** The topic if it exists (created by any process), without creating it. */
  lookup(name: string): TopicInfo | undefined {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    const ids = this.#selectPartitions.all(name).map((row) => row.id);
    if (ids.length === 0) return undefined;
    const info: TopicInfo = { name, partitionIds: ids };
    if (!this.#db.inTransaction) this.#cache.set(name, info);
    return info;
  }

  /**
   * The topic, created with the default partition count if no process created it yet: in a `BEGIN IMMEDIATE`
   * transaction of its own, or as a savepoint of the caller's transaction.
   */
  ensure(name: string): TopicInfo {
    const found = this.lookup(name);
    if (found !== undefined) return found;
    if (typeof name !== 'string' || name.length === 0) {
      throw new HeraldError(ErrorCodes.TRANSPORT, `Invalid topic name ${JSON.stringify(name)}`, {
        permanent: true,
      });
    }
    const nested = this.#db.inTransaction;
    const info: TopicInfo = { name, partitionIds: this.#create.immediate(name) };
    if (!nested) this.#cache.set(name, info);
    return info;
  }

  /** The partition of the topic's next keyless record: round-robin in this process. */
  nextTurn(topic: TopicInfo): number {
    const turn = this.#turns.get(topic.name) ?? 0;
    this.#turns.set(topic.name, turn + 1);
    return turn % topic.partitionIds.length;
  }
}
