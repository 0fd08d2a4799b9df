import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { PartitionLog } from './sqlite-partition-log.ts';
import type { SqliteDatabase } from './sqlite-schema.ts';

/** What the sweeper keeps. */
export interface RetentionPolicy {
  readonly maxAgeMs?: number;
  readonly maxRecordsPerPartition?: number;
  readonly intervalMs: number;
}

/** Rows deleted per transaction: short enough that appends of other processes wait at most a few ms. */
const CHUNK = 2000;

/**
 * Deletes old records in the background: every `intervalMs`, for each partition, the prefix of records older
 * than `maxAgeMs` or beyond the newest `maxRecordsPerPartition`, always keeping each partition's newest record
 * (it carries the next offset, so offsets are never reused). Deletion runs in small `BEGIN IMMEDIATE`
 * transactions with a turn of the event loop between them, never inside an append. Parked records and dead
 * letters are copies and are not affected; a group whose position was deleted resumes at the oldest record left.
 * Of several processes with retention on the same file, one sweeps per interval (a claim in the `meta` table).
 */
export class RetentionSweeper {
  readonly #log: PartitionLog;
  readonly #policy: RetentionPolicy;
  readonly #partitionIds;
  readonly #claimTx;
  readonly #deleteTx;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #closed = false;

  constructor(db: SqliteDatabase, log: PartitionLog, policy: RetentionPolicy) {
    this.#log = log;
    this.#policy = policy;
    this.#partitionIds = db.prepare<[], number>('SELECT id FROM partitions ORDER BY id').pluck();
    const lastSweep = db.prepare<[], number>("SELECT value FROM meta WHERE name = 'retention_at'").pluck();
    const setSweep = db.prepare<[number]>(
      `INSERT INTO meta (name, value) VALUES ('retention_at', ?)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    );
    this.#claimTx = db.transaction((now: number): boolean => {
      const last = lastSweep.get();
      if (last !== undefined && last > now - this.#policy.intervalMs / 2 && last <= now) return false;
      setSweep.run(now);
      return true;
    });
    this.#deleteTx = db.transaction((id: number, from: number, to: number) => log.deleteRange(id, from, to));
  }

  /** Starts sweeping every `intervalMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => {
      void this.sweep().catch((error: unknown) => {
        console.error('[herald] sqlite retention sweep failed:', error);
      });
    }, this.#policy.intervalMs);
    this.#timer.unref();
  }

  /**
   * Runs one sweep now (unless one is running, or `force` is false and another process swept within half an
   * interval). Resolves with the number of records deleted.
   */
  sweep(options: { force?: boolean } = {}): Promise<number> {
    this.#running ??= this.#sweep(options.force ?? false).finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(force: boolean): Promise<number> {
    const now = Date.now();
    if (this.#closed || !(this.#claimTx.immediate(now) || force)) return 0;
    let deleted = 0;
    for (const id of this.#partitionIds.all()) {
      const { first, end } = this.#log.bounds(id);
      let cutoff = first;
      const { maxAgeMs, maxRecordsPerPartition } = this.#policy;
      if (maxAgeMs !== undefined) cutoff = Math.max(cutoff, this.#log.offsetForTimeById(id, now - maxAgeMs));
      if (maxRecordsPerPartition !== undefined) cutoff = Math.max(cutoff, end - maxRecordsPerPartition);
      // The newest record stays: it carries the partition's next offset (see PartitionLog).
      cutoff = Math.min(cutoff, end - 1);
      for (let from = first; from < cutoff; from += CHUNK) {
        if (this.#closed) return deleted;
        deleted += this.#deleteTx.immediate(id, from, Math.min(from + CHUNK, cutoff));
        await yieldToLoop();
      }
    }
    return deleted;
  }

  /** Stops the timer and waits for a running sweep to stop at its next chunk. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
