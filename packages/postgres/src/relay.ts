import pg, { type PoolClient } from 'pg';
import {
  backoffDelay,
  checkBackoff,
  configError,
  describeError,
  ErrorCodes,
  HeraldError,
  sendRecords,
  type BackoffOptions,
  type ErrorInfo,
  type Transport,
  Wakeup,
} from '@herald/core';
import { toOutboxRow, type PostgresOutbox } from './outbox.ts';
import { SCHEDULED_PAYLOAD } from './scheduled.ts';
import { lockClasses, quoted } from './schema.ts';
import { databaseError } from './transaction.ts';

/** Options of {@link postgresOutboxRelay}. */
export interface PostgresOutboxRelayOptions {
  readonly outbox: PostgresOutbox;
  readonly transport: Transport;
  /** Rows published per `transport.publish` call (and claimed per transaction). Default 100. */
  readonly batchSize?: number;
  /**
   * Relay partitions one claim takes at most. Smaller values let more relays work side by side; larger ones give
   * one relay bigger batches. Default 4.
   */
  readonly partitionsPerClaim?: number;
  /**
   * How often an idle relay looks for rows anyway: the fallback for a lost notification (LISTEN connection
   * down, rows inserted by hand). Default 1000 ms.
   */
  readonly pollIntervalMs?: number;
  /** LISTEN for the outbox's commits (default `true`); `false` relies on polling alone. */
  readonly listen?: boolean;
  /** Backoff after a failed publish or database error. Default 100 ms growing ×2 up to 5 s, half jittered. */
  readonly backoff?: BackoffOptions;
  /**
   * A claim transaction idle longer than this (a publish that hangs) is ended by the server
   * (`idle_in_transaction_session_timeout`), which releases its partitions to the other relays; its rows are then
   * published again. Default 60 000 ms.
   */
  readonly claimTimeoutMs?: number;
  /** Called with every failure (the relay retries). Default: `console.error`. */
  readonly onError?: (error: unknown, failures: number) => void;
}

/** Counters of a relay, for health endpoints and tests. */
export interface PostgresOutboxRelayStats {
  /** Records published (a batch retried after a failure counts again). */
  readonly published: number;
  readonly batches: number;
  /** Failed claims (publish or database) since start. */
  readonly failures: number;
  /** Consecutive failed claims; 0 when the last one succeeded. */
  readonly consecutiveFailures: number;
  readonly lastError: ErrorInfo | undefined;
  /** True while the LISTEN connection is up. */
  readonly listening: boolean;
}

/**
 * Moves outbox rows to a transport. Guarantees:
 * - **At least once.** Rows are claimed, published, and deleted in ONE transaction that commits only after the
 *   transport acknowledged them; a crash or failure before the commit leaves the rows for the next claim, so
 *   consumers deduplicate by event id (an inbox).
 * - **Order per key, with any number of relays.** Each claim takes a transaction-level advisory lock on each
 *   relay partition it reads (`pg_try_advisory_xact_lock`), so a partition is relayed by one relay at a time,
 *   oldest row first, and held until its rows are deleted. Rows are claimed with `FOR UPDATE SKIP LOCKED`. With
 *   the outbox's key locks, same-key rows get their `seq` in commit order, so they are published in commit
 *   order.
 * - **Progress.** A failing transport is retried with backoff, never skipped; published rows are deleted, so the
 *   table does not grow.
 * - **Held rows.** Events due later are moved from the scheduled table to the outbox once due (see
 *   {@link PostgresOutbox.releaseDue}: each row once, whatever the number of relays), then published like any
 *   row: no sooner than their due time, and about a poll interval after it at the latest. A relay looks at the
 *   held rows every `pollIntervalMs`, at the next due time, and when a commit that added one is notified.
 */
export interface PostgresOutboxRelay {
  /**
   * Starts relaying (idempotent). Resolves once the relay LISTENs for commits; rejects with `HERALD_TRANSPORT`
   * (and does not start) when the database cannot be reached.
   */
  start(): Promise<void>;
  /**
   * Resolves once the outbox is empty and no held row is due (whichever relay emptied it); rejects with
   * `HERALD_TIMEOUT` after `timeoutMs` (default 10 s). Rows added meanwhile count too; rows held for a later due
   * time do not.
   */
  flush(timeoutMs?: number): Promise<void>;
  /**
   * Stops: lets the batch in flight finish (its rows are deleted if the transport acknowledged it), closes the
   * LISTEN connection, and resolves. Rows left stay in the outbox for the next start. Idempotent.
   */
  close(): Promise<void>;
  readonly stats: PostgresOutboxRelayStats;
}

type ClaimedRow = Parameters<typeof toOutboxRow>[0];

/**
 * Creates a relay for one outbox (see {@link PostgresOutboxRelay} for its guarantees). Run one in each instance
 * of the service if you like: they share the partitions. Options are checked at once (`HERALD_CONFIG`).
 */
export function postgresOutboxRelay(options: PostgresOutboxRelayOptions): PostgresOutboxRelay {
  const { outbox, transport } = options;
  if (typeof outbox?.addRecords !== 'function')
    throw configError('outbox', 'a postgresOutbox', typeof outbox);
  if (typeof transport?.publish !== 'function')
    throw configError('transport', 'a Transport', typeof transport);
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw configError('batchSize', 'an integer >= 1', batchSize);
  const partitionsPerClaim = options.partitionsPerClaim ?? 4;
  if (!Number.isInteger(partitionsPerClaim) || partitionsPerClaim < 1) {
    throw configError('partitionsPerClaim', 'an integer >= 1', partitionsPerClaim);
  }
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (!(pollIntervalMs > 0)) throw configError('pollIntervalMs', 'a number > 0', pollIntervalMs);
  const listen = options.listen ?? true;
  if (typeof listen !== 'boolean') throw configError('listen', 'a boolean', listen);
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 };
  checkBackoff(backoff, 'backoff');
  const claimTimeoutMs = options.claimTimeoutMs ?? 60_000;
  if (!Number.isInteger(claimTimeoutMs) || claimTimeoutMs < 1) {
    throw configError('claimTimeoutMs', 'an integer >= 1 (ms)', claimTimeoutMs);
  }
  const onError =
    options.onError ??
    ((error: unknown, failures: number) =>
      console.error(`[herald] postgres outbox relay (${failures})`, error));

  const { pool, schema, channel } = outbox;
  const s = quoted(schema);
  const partitionLockClass = lockClasses(schema).partition;
  // 1. The partitions that have rows (a loose index scan over (partition, seq): one probe per partition).
  // 2. Shuffled, so relays starting together do not all try the same partitions first.
  // 3. Try-lock them in that order until `partitionsPerClaim` are ours; the locks are held to the end of the
  //    transaction. (Each step is a materialised CTE so the planner cannot try-lock partitions we then drop.)
  // 4. The oldest `batchSize` rows of our partitions, in seq order, locked FOR UPDATE SKIP LOCKED (only those:
  //    locking a whole batch per partition would write row locks we never use).
  // Rows deleted by a relay that committed after this statement's snapshot are dropped by the row lock (READ
  // COMMITTED re-checks the latest version), so a partition's rows are never published twice in a row.
  const claimSql = `WITH RECURSIVE parts AS (
      (SELECT partition AS p FROM ${s}.outbox ORDER BY partition LIMIT 1)
      UNION ALL
      SELECT (SELECT o.partition FROM ${s}.outbox o WHERE o.partition > parts.p ORDER BY o.partition LIMIT 1)
      FROM parts WHERE parts.p IS NOT NULL
    ), shuffled AS MATERIALIZED (
      SELECT p FROM parts WHERE p IS NOT NULL ORDER BY random()
    ), mine AS MATERIALIZED (
      SELECT p FROM shuffled WHERE pg_try_advisory_xact_lock($1::int, p::int) LIMIT $2
    ), picked AS MATERIALIZED (
      SELECT c.seq FROM mine CROSS JOIN LATERAL (
        SELECT o.seq FROM ${s}.outbox o WHERE o.partition = mine.p ORDER BY o.seq LIMIT $3
      ) AS c
      ORDER BY c.seq
      LIMIT $3
    )
    SELECT o.seq, o.partition, o.topic, o.key, o.attributes, o.data, o.created_at
    FROM ${s}.outbox o
    WHERE o.seq = ANY (ARRAY(SELECT seq FROM picked))
    ORDER BY o.seq
    FOR UPDATE SKIP LOCKED`;
  const deleteSql = `DELETE FROM ${s}.outbox WHERE seq = ANY($1::bigint[])`;
  const beginSql = `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL idle_in_transaction_session_timeout = ${claimTimeoutMs}`;

  const wakeup = new Wakeup();
  const stats = {
    published: 0,
    batches: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastError: undefined as ErrorInfo | undefined,
    listening: false,
  };
  let starting: Promise<void> | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let listener: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let signalStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    signalStopped = resolve;
  });
  /** When (local ms) to look at the held rows next: every poll, at the next due time, or at once when notified. */
  let heldCheckAt = 0;
  /** Bumped by each notification of held rows, so one arriving while we look is not overwritten. */
  let heldNotices = 0;
  const noticeHeld = (): void => {
    heldNotices++;
    heldCheckAt = 0;
  };

  /** Moves the due held rows to the outbox, and sets when to look again. */
  async function releaseHeld(): Promise<void> {
    if (Date.now() < heldCheckAt) return;
    const notices = heldNotices;
    let next = await outbox.nextDueInMs();
    if (next === 0) {
      const moved = await outbox.releaseDue(batchSize);
      // A full batch: more may be due. Otherwise any row still due is being moved by another relay (locked).
      next = moved === batchSize ? 0 : Math.max(20, (await outbox.nextDueInMs()) ?? pollIntervalMs);
    }
    heldCheckAt = notices === heldNotices ? Date.now() + Math.min(pollIntervalMs, next ?? pollIntervalMs) : 0;
  }

  /** Claims, publishes and deletes one batch in one transaction; returns how many rows it published. */
  async function relayBatch(): Promise<number> {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw databaseError('Could not get a database connection', error);
    }
    let broken: Error | undefined;
    const onClientError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onClientError);
    let publishing = false;
    try {
      await client.query(beginSql);
      const claimed = await client.query<ClaimedRow>(claimSql, [
        partitionLockClass,
        partitionsPerClaim,
        batchSize,
      ]);
      if (claimed.rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const rows = claimed.rows.map(toOutboxRow);
      publishing = true;
      await sendRecords(
        transport,
        rows.map((row) => row.record),
      );
      publishing = false;
      // Deleted even when stopping: the transport has the batch, so keeping it would only duplicate it.
      await client.query(deleteSql, [rows.map((row) => row.seq)]);
      await client.query('COMMIT');
      stats.batches++;
      stats.published += rows.length;
      return rows.length;
    } catch (error) {
      if (broken === undefined) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError as Error;
        });
      }
      // The transport's own errors pass through; database failures become HERALD_TRANSPORT.
      throw publishing ? error : databaseError(`Relaying ${schema}.outbox failed`, error);
    } finally {
      client.off('error', onClientError);
      client.release(broken ?? false);
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      let published: number;
      try {
        await releaseHeld();
        published = await relayBatch();
        stats.consecutiveFailures = 0;
      } catch (error) {
        stats.failures++;
        stats.consecutiveFailures++;
        stats.lastError = describeError(error);
        onError(error, stats.consecutiveFailures);
        // Waits out the backoff; only close interrupts it (a notification must not hammer a failing broker).
        await Promise.race([
          new Promise((resolve) => setTimeout(resolve, backoffDelay(backoff, stats.consecutiveFailures))),
          stopped,
        ]);
        continue;
      }
      // A full claim suggests more rows wait; otherwise sleep until a commit is notified or the poll is due.
      if (published === 0) {
        await wakeup.wait(Math.max(1, Math.min(pollIntervalMs, heldCheckAt - Date.now())));
      }
    }
  }

  async function connectListener(): Promise<void> {
    const client = new pg.Client(pool.options);
    client.on('notification', (message) => {
      if (message.payload === SCHEDULED_PAYLOAD) noticeHeld();
      wakeup.notify();
    });
    client.on('error', (error) => {
      // Before it is ours, a failure surfaces as the rejection below instead.
      if (listener !== client) return;
      onError(databaseError('The LISTEN connection failed; polling until it is back', error), 0);
      dropListener(client);
    });
    client.on('end', () => dropListener(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      client.end().catch(() => undefined);
      throw databaseError(`Could not LISTEN on "${channel}"`, error);
    }
    if (stopping) {
      await client.end().catch(() => undefined);
      return;
    }
    listener = client;
    stats.listening = true;
    // Rows committed while we were not listening would otherwise wait for the next poll.
    noticeHeld();
    wakeup.notify();
  }

  function dropListener(client: pg.Client): void {
    if (listener !== client) return;
    listener = undefined;
    stats.listening = false;
    client.end().catch(() => undefined);
    scheduleReconnect(1);
  }

  function scheduleReconnect(attempt: number): void {
    if (stopping || reconnectTimer !== undefined) return;
    reconnectTimer = setTimeout(
      () => {
        reconnectTimer = undefined;
        if (stopping) return;
        connectListener().catch((error: unknown) => {
          onError(error, attempt);
          scheduleReconnect(attempt + 1);
        });
      },
      backoffDelay(backoff, attempt),
    );
  }

  return {
    stats,
    start() {
      if (stopping) return Promise.reject(new HeraldError(ErrorCodes.CLOSED, 'The outbox relay is closed'));
      starting ??= (async () => {
        if (listen) await connectListener();
        else {
          // Without LISTEN, still fail at start-up when the database is unreachable.
          await pool.query('SELECT 1').catch((error: unknown) => {
            throw databaseError('Could not reach the database', error);
          });
        }
        if (stopping) return;
        running = loop().catch((error: unknown) => {
          console.error('[herald] postgres outbox relay stopped on an unexpected error', error);
        });
      })();
      const attempt = starting;
      // A failed start can be retried.
      attempt.catch(() => {
        if (starting === attempt) starting = undefined;
      });
      return attempt;
    },
    async flush(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      const unsent = async (): Promise<{ left: number; due: boolean }> => ({
        left: await outbox.pending(),
        due: (await outbox.nextDueInMs()) === 0,
      });
      for (let state = await unsent(); state.left > 0 || state.due; state = await unsent()) {
        if (Date.now() > deadline) {
          throw new HeraldError(
            ErrorCodes.TIMEOUT,
            `Outbox ${schema}.outbox still has ${state.left} row(s) to publish after ${timeoutMs} ms` +
              (state.due ? ', and held rows due' : ''),
            { details: { pending: state.left, heldDue: state.due } },
          );
        }
        if (state.due) noticeHeld();
        wakeup.notify();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      if (!stopping) {
        stopping = true;
        signalStopped();
        wakeup.notify();
        clearTimeout(reconnectTimer);
      }
      await starting?.catch(() => undefined);
      await running;
      const client = listener;
      listener = undefined;
      stats.listening = false;
      await client?.end().catch(() => undefined);
    },
  };
}
