import { closeSync, fsyncSync, openSync } from 'node:fs';

/**
 * `D2` durability without holding the write lock during the fsync. The connection commits with
 * `synchronous=NORMAL` (the frames are written to the WAL and the lock released at once), then this fsyncs the
 * WAL file before the append is acknowledged. That is as durable as `synchronous=FULL`: the frames stay in the
 * WAL until a checkpoint has copied them into the database and synced it (NORMAL syncs the WAL before and the
 * database after every checkpoint), and the WAL cannot be deleted while this connection is open. With FULL,
 * SQLite syncs while holding the write lock, so a stream of single-event appends starves every other writer
 * (consumers' commits and heartbeats) for the length of each fsync; measured here, it stalled a consumer for
 * seconds.
 */
export class WalSync {
  readonly #walPath: string;
  #fd: number | undefined;

  constructor(databasePath: string) {
    this.#walPath = `${databasePath}-wal`;
  }

  /** Flushes the WAL to the disk. Call after a commit (the WAL exists from the first one on). */
  sync(): void {
    this.#fd ??= openSync(this.#walPath, 'r');
    fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
