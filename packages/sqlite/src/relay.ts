import { randomUUID } from 'node:crypto';
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
import type { SqliteOutbox } from './outbox.ts';

/** Options of {@link outboxRelay}. */
export interface OutboxRelayOptions {
  readonly outbox: SqliteOutbox;
  readonly transport: Transport;
  /** Rows published per `transport.publish` call. Default 100. */
  readonly batchSize?: number;
  /**
   * How often an idle relay looks for rows added without an in-process notification (another process or
   * connection wrote them). Default 500 ms.
   */
  readonly pollIntervalMs?: number;
  /** Backoff after a failed publish. Default 100 ms growing ×2 up to 5 s, half jittered. */
  readonly backoff?: BackoffOptions;
  /**
   * A lease in the same database makes one relay per outbox table publish at a time, even when several
   * processes open the same file; the others stand by and take over when the lease expires. `false` disables it.
   * Default `{ ttlMs: 10_000 }`.
   */
  readonly lease?: { readonly ttlMs?: number; readonly owner?: string } | false;
  /** Called with every failed publish (the relay retries). Default: `console.error`. */
  readonly onError?: (error: unknown, failures: number) => void;
}

/** Counters of a relay, for health endpoints and tests. */
export interface OutboxRelayStats {
  /** Records published (a batch retried after a failure counts again). */
  readonly published: number;
  readonly batches: number;
  /** Failed publish calls since start. */
  readonly failures: number;
  /** Consecutive failed publish calls; 0 when the last one succeeded. */
  readonly consecutiveFailures: number;
  readonly lastError: ErrorInfo | undefined;
}

/**
 * Moves outbox rows to a transport. Guarantees: every committed row is published at least once (a crash between
 * publish and delete publishes the batch again, so consumers deduplicate by event id with an inbox); rows are
 * published in `seq` order and a batch is deleted only after the transport acknowledged it, so events with the
 * same partition key keep their commit order; a failing transport is retried with backoff, never skipped.
 * Held rows (an event due later) are moved to the outbox table when due, before each batch, and then published
 * like any row: no sooner than their due time, and about a poll interval after it at the latest.
 */
export interface OutboxRelay {
  /**
   * Starts relaying (idempotent). Wakes at once after a local `add`, at the next held row's due time, else every
   * `pollIntervalMs`.
   */
  start(): void;
  /**
   * Resolves once the outbox is empty and no held row is due; rejects with `HERALD_TIMEOUT` after `timeoutMs`
   * (default 10 s). Rows added meanwhile count too; rows held for a later due time do not.
   */
  flush(timeoutMs?: number): Promise<void>;
  /**
   * Stops: lets the batch in flight finish (its rows are deleted if the transport acknowledged it), releases the
   * lease, and resolves. Rows left stay in the outbox for the next start. Idempotent.
   */
  close(): Promise<void>;
  readonly stats: OutboxRelayStats;
}

/**
 * Creates a relay for one outbox (see {@link OutboxRelay} for its guarantees). It uses the outbox's connection;
 * better-sqlite3 being synchronous, it never runs inside a caller's transaction.
 */
export function outboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { outbox, transport } = options;
  const { db } = outbox;
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw configError('batchSize', 'an integer >= 1', batchSize);
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  if (!(pollIntervalMs > 0)) throw configError('pollIntervalMs', 'a number > 0', pollIntervalMs);
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 };
  checkBackoff(backoff, 'backoff');
  const lease =
    options.lease === false ? undefined : { ttlMs: 10_000, owner: randomUUID(), ...options.lease };
  if (lease !== undefined && !(lease.ttlMs > 0))
    throw configError('lease.ttlMs', 'a number > 0', lease.ttlMs);
  const onError =
    options.onError ??
    ((error: unknown, failures: number) =>
      console.error(`[herald] outbox relay: publish failed (${failures})`, error));

  const leaseTable = `${outbox.table}_lease`;
  let acquireLease: ((now: number) => boolean) | undefined;
  let releaseLease: (() => void) | undefined;
  if (lease !== undefined) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${leaseTable} (
      name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    const upsert = db.prepare<[string, string, number, number]>(
      `INSERT INTO ${leaseTable} (name, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE ${leaseTable}.owner = excluded.owner OR ${leaseTable}.expires_at < ?`,
    );
    const del = db.prepare<[string, string]>(`DELETE FROM ${leaseTable} WHERE name = ? AND owner = ?`);
    acquireLease = (now) => upsert.run(outbox.table, lease.owner, now + lease.ttlMs, now).changes > 0;
    releaseLease = () => del.run(outbox.table, lease.owner);
  }

  const wakeup = new Wakeup();
  let running: Promise<void> | undefined;
  let stopping = false;
  let unsubscribe: (() => void) | undefined;
  let leaseUntil = 0;
  /** Milliseconds until the next held row is due, as last read by an idle batch. */
  let nextDue: number | undefined;
  const stats = {
    published: 0,
    batches: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastError: undefined as ErrorInfo | undefined,
  };

  const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  /** True when this relay may publish now (it holds the lease, renewed when half of it is used). */
  function holdsLease(): boolean {
    if (acquireLease === undefined) return true;
    const now = Date.now();
    if (now < leaseUntil - lease!.ttlMs / 2) return true;
    if (acquireLease(now)) {
      leaseUntil = now + lease!.ttlMs;
      return true;
    }
    leaseUntil = 0;
    return false;
  }

  /** Someone holds a transaction across an await on this connection: its rows are not committed yet. */
  async function outsideTransactions(): Promise<void> {
    while (db.inTransaction && !stopping) await pause(5);
  }

  async function failed(error: unknown): Promise<void> {
    stats.failures++;
    stats.consecutiveFailures++;
    stats.lastError = describeError(error);
    onError(error, stats.consecutiveFailures);
    // Waits out the backoff; only close interrupts it (a new add must not hammer a failing broker).
    await Promise.race([pause(backoffDelay(backoff, stats.consecutiveFailures)), stopped]);
  }

  /** One step: publishes and deletes one batch. Returns false when the outbox was empty (or not ours). */
  async function relayBatch(): Promise<boolean> {
    if (!holdsLease()) return false;
    outbox.releaseDue(batchSize);
    const rows = outbox.peek(batchSize);
    if (rows.length === 0) {
      nextDue = outbox.nextDueInMs();
      return false;
    }
    await sendRecords(
      transport,
      rows.map((row) => row.record),
    );
    stats.batches++;
    stats.published += rows.length;
    await outsideTransactions();
    // Deleted even when stopping: the transport has the batch, so keeping it would only duplicate it.
    if (db.open) outbox.remove(rows[0]!.seq, rows[rows.length - 1]!.seq);
    stats.consecutiveFailures = 0;
    return true;
  }

  /** How long an idle relay sleeps: its poll interval, shorter for a lease to take or a held row coming due. */
  function idleWait(): number {
    if (leaseUntil === 0 && lease !== undefined) return Math.min(pollIntervalMs, lease.ttlMs / 2);
    // At least 1 ms: a row due now is moved by the next batch; this only keeps a failed move from spinning.
    return nextDue === undefined ? pollIntervalMs : Math.min(pollIntervalMs, Math.max(1, nextDue));
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      await outsideTransactions();
      if (stopping || !db.open) break;
      let busy: boolean;
      try {
        busy = await relayBatch();
      } catch (error) {
        // A failed publish, or the database busy or failing: the rows stay, and are retried after a backoff.
        if (!db.open) break;
        await failed(error);
        continue;
      }
      if (!busy) await wakeup.wait(idleWait());
    }
  }

  let signalStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    signalStopped = resolve;
  });

  return {
    stats,
    start() {
      if (running !== undefined || stopping) return;
      unsubscribe = outbox.onAdd(() => wakeup.notify());
      running = loop().catch((error: unknown) => {
        console.error('[herald] outbox relay stopped on an unexpected error', error);
      });
    },
    async flush(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (outbox.pending() > 0 || outbox.nextDueInMs() === 0) {
        if (Date.now() > deadline) {
          throw new HeraldError(
            ErrorCodes.TIMEOUT,
            `Outbox ${outbox.table} still has ${outbox.pending()} row(s) to publish after ${timeoutMs} ms` +
              (outbox.nextDueInMs() === 0 ? ', and held rows due' : ''),
          );
        }
        wakeup.notify();
        await pause(5);
      }
    },
    async close() {
      if (stopping) {
        await running;
        return;
      }
      stopping = true;
      signalStopped();
      unsubscribe?.();
      wakeup.notify();
      await running;
      if (db.open && leaseUntil > 0) releaseLease?.();
    },
  };
}
