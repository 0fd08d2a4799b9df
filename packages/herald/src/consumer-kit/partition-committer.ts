import type { OffsetTracker } from '../offset-tracker.ts';

/** What a {@link PartitionCommitter} keeps of one partition a member owns. */
export interface CommittedPartition {
  /** The partition's delivered and unfinished records. */
  readonly tracker: OffsetTracker;
  /** The last position written for this member, to skip writing it again. */
  lastCommitted: bigint | undefined;
  /** No longer this member's: nothing more is committed for it. */
  revoked: boolean;
}

/** One position to write: `position` is the next offset the group reads in `partition`. */
export interface PositionCommit<P> {
  readonly partition: P;
  readonly position: bigint;
}

/** How a {@link PartitionCommitter} writes positions and paces itself. */
export interface PartitionCommitterOptions<P> {
  /** How long after a record finishes its partition's position is written (finishes meanwhile share it). */
  readonly intervalMs: number;
  /**
   * Writes the positions to the broker or store. Resolves to the commits it accepted; one it refused (the
   * partition is another member's now) is left out, and the transport deals with it (revoke, rejoin). Rejects
   * when the write failed: every partition is written again after `retryMs`.
   */
  readonly write: (commits: readonly PositionCommit<P>[]) => Promise<readonly PositionCommit<P>[]>;
  /** After a failed write, how long until it is tried again. Default 500 ms. */
  readonly retryMs?: number;
  /** A failed write while running (not after {@link PartitionCommitter.stop}, where `flush` rejects instead). */
  readonly onError: (error: unknown) => void;
}

const DEFAULT_RETRY_MS = 500;

/**
 * Commits each partition only below its oldest unfinished record: `finish(partition, offset)` marks a record
 * done, and within `intervalMs` the partition's {@link OffsetTracker.committable} position is written, unless it
 * is the one written last. Writes run one at a time, so positions never go backwards; a failed write is retried
 * until it succeeds or the committer stops. A crash therefore redelivers every unfinished record and none below
 * a written position.
 */
export class PartitionCommitter<P extends CommittedPartition> {
  readonly #options: PartitionCommitterOptions<P>;
  readonly #dirty = new Set<P>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: PartitionCommitterOptions<P>) {
    this.#options = options;
  }

  /** The record at `offset` of `partition` is done (acked, parked for later, or dead-lettered). */
  finish(partition: P, offset: bigint): void {
    partition.tracker.finish(offset);
    if (partition.revoked) return;
    this.#dirty.add(partition);
    this.#schedule(this.#options.intervalMs);
  }

  /** Drops a partition's pending write (it was revoked and committed, or handed over). */
  forget(partition: P): void {
    this.#dirty.delete(partition);
  }

  /**
   * Writes the position of each partition now, not waiting for the interval: `positionOf` (default: below its
   * oldest unfinished record). Skips a partition without a position or at the one written last. Rejects when the
   * write failed, and retries nothing: for revocation (best effort) and a new group's starting position.
   */
  async commit(
    partitions: readonly P[],
    positionOf: (partition: P) => bigint | undefined = (p) => p.tracker.committable(),
  ): Promise<void> {
    const commits: PositionCommit<P>[] = [];
    for (const partition of partitions) {
      const position = positionOf(partition);
      if (position === undefined || position === partition.lastCommitted) continue;
      commits.push({ partition, position });
    }
    if (commits.length === 0) return;
    for (const { partition, position } of await this.#options.write(commits)) {
      partition.lastCommitted = position;
    }
  }

  /**
   * Writes every pending position now, after any write under way. Running, a failure is reported and retried
   * after `retryMs`; once stopped, the promise rejects with it (the positions stay pending).
   */
  flush(): Promise<void> {
    const flushed = this.#writing.then(async () => {
      const partitions = [...this.#dirty];
      this.#dirty.clear();
      try {
        await this.commit(partitions);
      } catch (error) {
        for (const partition of partitions) if (!partition.revoked) this.#dirty.add(partition);
        if (this.#stopped) throw error;
        this.#options.onError(error);
        this.#schedule(this.#options.retryMs ?? DEFAULT_RETRY_MS);
      }
    });
    this.#writing = flushed.catch(() => undefined);
    return flushed;
  }

  /** Stops the interval's writes: what finishes from now on is written by the next {@link flush} only. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error: unknown) => this.#options.onError(error));
    }, delayMs);
  }
}
