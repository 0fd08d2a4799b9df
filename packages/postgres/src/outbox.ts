import type { Pool } from 'pg';
import {
  checkSource,
  configError,
  createEvent,
  encodeEvent,
  partitionFor,
  recordDueAt,
  DELIVER_AT_ATTRIBUTE,
  type CloudEvent,
  type EventData,
  type EventDefinition,
  type EventInput,
  type PublishOptions,
  type Publisher,
  type TransportRecord,
} from '@herald/core';
import {
  channelFor,
  checkPool,
  checkSchemaName,
  ensureSchema,
  hash32,
  outboxPartitions,
  lockClasses,
  quoted,
} from './schema.ts';
import {
  countScheduled,
  heldParameters,
  insertWithHeldSql,
  readNextDue,
  releaseDueRows,
} from './scheduled.ts';
import { outboxInsertCtes } from './outbox-insert.ts';
import { databaseError, type Queryable } from './transaction.ts';

/** One waiting outbox row, as the relay reads it. */
export interface OutboxRow {
  /** Position in the outbox (a decimal string: `bigserial`); the relay publishes in `seq` order per partition. */
  readonly seq: string;
  /** The relay partition of the row: `partitionFor(key, partitions)` (keyless rows: of the event id). */
  readonly partition: number;
  readonly record: TransportRecord;
  readonly createdAt: Date;
}

/** Options of {@link postgresOutbox}. */
export interface PostgresOutboxOptions {
  readonly pool: Pool;
  /** The service's schema (e.g. `order_service`): the outbox lives next to its state. Created if missing. */
  readonly schema: string;
  /** CloudEvents `source` of events built by {@link PostgresOutbox.emit} (e.g. `/shop/order-service`). */
  readonly source?: string;
  /**
   * Relay partitions: rows are spread over them by partition key, and each is relayed by one relay at a time,
   * so several relays share the work without reordering a key. Recorded with the table by the first outbox that
   * opens it (as the table comment `herald:partitions=N`); omitted, the recorded count is used; a different one is a
   * `HERALD_CONFIG` error. Default 16, at most 1024.
   */
  readonly partitions?: number;
  /**
   * Takes a transaction-level advisory lock per partition key before inserting, so two transactions writing the
   * same key get their `seq` in commit order (the second waits for the first to commit or roll back). Without it,
   * same-key events keep their order only if the writers are serialised otherwise (typically by the aggregate's
   * row lock). A transaction writing several keys in several calls can then deadlock with one writing them in
   * the other order; PostgreSQL aborts one of them (SQLSTATE 40P01, retryable). Default `true`.
   */
  readonly lockKeys?: boolean;
  /**
   * Sends `pg_notify` in the writing transaction so LISTENing relays wake at commit (default `true`). PostgreSQL
   * serialises the commits of all notifying transactions of the cluster (a heavyweight lock taken before commit
   * and held until after it, so queue entries appear in commit order), which roughly halved single-event commit
   * throughput here; a service writing more than a few hundred events per second can turn it off and give its
   * relay a short `pollIntervalMs` instead.
   */
  readonly notify?: boolean;
}

/**
 * A transactional outbox in the service's PostgreSQL schema. Pass the client of your transaction to
 * {@link PostgresOutbox.add} or {@link PostgresOutbox.emit}: the event is stored if and only if your state change
 * commits, and the relay is woken by a `pg_notify` sent in that same transaction (PostgreSQL delivers it on
 * commit, never on rollback). A {@link postgresOutboxRelay} then publishes the rows, in commit order per key, at
 * least once. An event due later (`deliverAt`/`delay`, the `deliverat` attribute in the future) is held in
 * `<schema>.scheduled`, in the same statement, until a relay moves it to the outbox table when it is due; it is not
 * ordered with the other rows of its key.
 */
export interface PostgresOutbox {
  readonly pool: Pool;
  readonly schema: string;
  /** The `source` of events built by {@link PostgresOutbox.emit}, if one was given. */
  readonly source: string | undefined;
  /** The NOTIFY channel (`herald_<schema>`). */
  readonly channel: string;
  /** Whether writes notify the channel (see {@link PostgresOutboxOptions.notify}). */
  readonly notify: boolean;
  readonly partitions: number;
  /**
   * Stores an event (built with `createEvent`) for `topic`, in the transaction of `client`. Atomic with it: if it
   * rolls back, the event is never published. Given the pool, the row commits on its own.
   */
  add(client: Queryable, topic: string, event: CloudEvent): Promise<void>;
  /** Stores already-encoded records, in order, in one statement, with the guarantee of {@link PostgresOutbox.add}. */
  addRecords(client: Queryable, records: readonly TransportRecord[]): Promise<void>;
  /**
   * Validates `data` against the definition's schema, builds the event and stores it, with the guarantee of
   * {@link PostgresOutbox.add}. Inside a handler (or a unit of work) the event takes its correlation and causation
   * from the event being handled. Rejects with `HERALD_VALIDATION` for invalid data: roll back on it.
   */
  emit<D extends EventDefinition>(
    client: Queryable,
    definition: D,
    data: EventInput<D>,
    options?: PublishOptions,
  ): Promise<CloudEvent<EventData<D>>>;
  /**
   * Core's {@link Publisher}, bound to the transaction of `client`: `publish` resolves once the event is in the
   * outbox (not yet on the transport), with the guarantee of {@link PostgresOutbox.add}. Lets code written against
   * `Publisher` publish atomically with a state change.
   */
  publisher(client: Queryable): Publisher;
  /** Rows waiting to be published (in the outbox table; held rows not included, see {@link PostgresOutbox.scheduled}). */
  pending(): Promise<number>;
  /**
   * Rows held for a due time (in `<schema>.scheduled`): those not due yet, and those whose time has come but that
   * no relay has moved to the outbox table yet (a relay does so about every poll interval, and at each due time).
   * Each row is in exactly one of the two tables until it is published: the move is one transaction.
   */
  scheduled(): Promise<number>;
  /**
   * Moves up to `limit` held rows that are due by the database's clock (oldest due time first) to the outbox table
   * in one transaction: locked `FOR UPDATE SKIP LOCKED`, deleted and inserted with the outbox's own insert (key
   * locks, partition, notification). Two relays calling it at once move each row once; a crash leaves each row
   * held or in the outbox. A moved row keeps its `deliverat` attribute, now in the past, so any transport accepts
   * it. Resolves with how many moved; rejects with `HERALD_TRANSPORT` on a database failure. Relays call it.
   */
  releaseDue(limit: number): Promise<number>;
  /**
   * Milliseconds, by the database's clock, until the earliest held row is due: 0 when one is due now, `undefined`
   * when none is held.
   */
  nextDueInMs(): Promise<number | undefined>;
  /** The oldest waiting rows, in `seq` order (for operators and tests; the relay claims rows itself). */
  peek(limit: number): Promise<OutboxRow[]>;
}

interface RawRow {
  seq: string;
  partition: number;
  topic: string;
  key: string | null;
  attributes: Record<string, string>;
  data: Buffer;
  created_at: Date;
}

/** Converts a row read from the outbox table. */
export function toOutboxRow(row: RawRow): OutboxRow {
  return {
    seq: row.seq,
    partition: row.partition,
    createdAt: row.created_at,
    record: { topic: row.topic, key: row.key ?? undefined, attributes: row.attributes, data: row.data },
  };
}

/** Checks the options shared by the outbox and the inbox. */
export function checkStoreOptions(options: { pool?: unknown; schema?: unknown } | undefined): void {
  if (typeof options !== 'object' || options === null) throw configError('options', 'an object', options);
  checkPool('pool', options.pool);
  checkSchemaName('schema', options.schema);
}

/**
 * Creates (if missing) the schema and its tables, and returns its outbox. See {@link PostgresOutbox} for the
 * guarantee; pair it with {@link postgresOutboxRelay}. Options are checked first (`HERALD_CONFIG`); an unreachable
 * database rejects with `HERALD_TRANSPORT`.
 */
export async function postgresOutbox(options: PostgresOutboxOptions): Promise<PostgresOutbox> {
  checkStoreOptions(options);
  const { pool, schema, source } = options;
  if (source !== undefined) checkSource(source);
  const requested = options.partitions;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1 || requested > 1024)) {
    throw configError('partitions', 'an integer from 1 to 1024', requested);
  }
  const lockKeys = options.lockKeys ?? true;
  if (typeof lockKeys !== 'boolean') throw configError('lockKeys', 'a boolean', lockKeys);
  const notify = options.notify ?? true;
  if (typeof notify !== 'boolean') throw configError('notify', 'a boolean', notify);
  await ensureSchema(pool, schema);
  const partitions = await outboxPartitions(pool, schema, requested);

  const s = quoted(schema);
  const channel = channelFor(schema);
  const keyLockClass = lockClasses(schema).key;
  // One statement: lock the keys, then insert in order (see outboxInsertCtes), then notify; notifications of one
  // transaction with the same payload are folded into one by PostgreSQL.
  const insertSql = `${outboxInsertCtes(schema)}
    SELECT ${notify ? `pg_notify($8, '')` : '$8::text'} FROM (SELECT count(*) AS n FROM inserted) AS c WHERE c.n > 0`;

  const insertWithHeld = insertWithHeldSql(schema, notify);

  /** Stores `records`, holding those due later in the scheduled table (one statement either way). */
  async function addRecords(client: Queryable, records: readonly TransportRecord[]): Promise<void> {
    if (records.every((record) => record.attributes[DELIVER_AT_ATTRIBUTE] === undefined)) {
      return insertRows(client, records);
    }
    const now = Date.now();
    const rows: TransportRecord[] = [];
    const held: { record: TransportRecord; dueAt: number }[] = [];
    for (const record of records) {
      const dueAt = recordDueAt(record);
      if (dueAt !== undefined && dueAt > now) held.push({ record, dueAt });
      else rows.push(record);
    }
    return insertRows(client, rows, held);
  }

  /** Writes `records` to the outbox table, and `held` to the scheduled table, in one statement. */
  async function insertRows(
    client: Queryable,
    records: readonly TransportRecord[],
    held: readonly { record: TransportRecord; dueAt: number }[] = [],
  ): Promise<void> {
    if (records.length === 0 && held.length === 0) return;
    const lockIds = new Set<number>();
    const topics: string[] = [];
    const keys: (string | null)[] = [];
    const rowPartitions: number[] = [];
    const attributes: string[] = [];
    const data: Buffer[] = [];
    for (const record of records) {
      topics.push(record.topic);
      keys.push(record.key ?? null);
      rowPartitions.push(partitionFor(record.key ?? record.attributes.id ?? '', partitions));
      attributes.push(JSON.stringify(record.attributes));
      data.push(Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength));
      if (lockKeys && record.key !== undefined) lockIds.add(hash32(record.key));
    }
    const parameters = [keyLockClass, [...lockIds], topics, keys, rowPartitions, attributes, data, channel];
    try {
      if (held.length === 0) await client.query(insertSql, parameters);
      else await client.query(insertWithHeld, [...parameters, ...heldParameters(held)]);
    } catch (error) {
      throw databaseError(
        `Could not add ${records.length + held.length} event(s) to outbox ${schema}.outbox`,
        error,
      );
    }
  }

  async function emit<D extends EventDefinition>(
    client: Queryable,
    definition: D,
    data: EventInput<D>,
    publishOptions?: PublishOptions,
  ): Promise<CloudEvent<EventData<D>>> {
    if (source === undefined) throw configError('source', 'a source to build events with (for emit)', source);
    const event = await createEvent(source, definition, data, publishOptions);
    await addRecords(client, [encodeEvent(definition.topic, event)]);
    return event;
  }

  return {
    pool,
    schema,
    source,
    channel,
    notify,
    partitions,
    add: (client, topic, event) => addRecords(client, [encodeEvent(topic, event)]),
    addRecords,
    emit,
    publisher: (client) => ({
      publish: (definition, data, publishOptions) => emit(client, definition, data, publishOptions),
    }),
    async pending() {
      try {
        const result = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.outbox`);
        return Number(result.rows[0]!.n);
      } catch (error) {
        throw databaseError(`Could not count ${schema}.outbox`, error);
      }
    },
    scheduled: () => countScheduled(pool, schema),
    async releaseDue(limit) {
      if (!Number.isInteger(limit) || limit < 1) throw configError('limit', 'an integer >= 1', limit);
      return releaseDueRows(pool, schema, limit, insertRows);
    },
    nextDueInMs: () => readNextDue(pool, schema),
    async peek(limit) {
      if (!Number.isInteger(limit) || limit < 1) throw configError('limit', 'an integer >= 1', limit);
      try {
        const result = await pool.query<RawRow>(
          `SELECT seq, partition, topic, key, attributes, data, created_at FROM ${s}.outbox ORDER BY seq LIMIT $1`,
          [limit],
        );
        return result.rows.map(toOutboxRow);
      } catch (error) {
        throw databaseError(`Could not read ${schema}.outbox`, error);
      }
    },
  };
}
