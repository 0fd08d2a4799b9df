import { closeSync, constants, openSync, watch, writeSync, type FSWatcher } from 'node:fs';
import { ensurePrivateFile } from '@herald/core';

const TICK = Buffer.from([1]);

/**
 * Cross-process wake-ups for a log database. After committing an append (or a park), a process rewrites one
 * byte of a companion file (`<db>-wake`); every process watching that file gets an inotify event (`fs.watch`)
 * strictly after the commit is visible, checks SQLite's `PRAGMA data_version` (which changes only when another
 * connection committed) and, if it changed, calls its listeners. Local appends call local listeners directly.
 *
 * A hint, never a guarantee: if the watch fails (a file system without change notification) or an event is
 * lost, consumers still find records through their poll.
 */
export class WakeSignal {
  readonly #path: string;
  readonly #dataVersion: () => number;
  readonly #listeners = new Set<() => void>();
  #fd: number | undefined;
  #watcher: FSWatcher | undefined;
  #lastVersion: number;
  #localPending = false;
  #remotePending = false;
  #closed = false;

  /** `dataVersion` reads `PRAGMA data_version` on the store's connection. */
  constructor(path: string, dataVersion: () => number) {
    this.#path = path;
    this.#dataVersion = dataVersion;
    this.#lastVersion = dataVersion();
    try {
      // Created private (0600) like the database beside it: it says when others write, nothing more.
      ensurePrivateFile(path);
      this.#fd = openSync(path, constants.O_RDWR);
    } catch {
      this.#fd = undefined;
    }
  }

  /** Tells every process (this one included) that records were appended or parked. Call after the commit. */
  notify(): void {
    if (this.#closed) return;
    if (this.#fd !== undefined) {
      try {
        writeSync(this.#fd, TICK, 0, 1, 0);
      } catch {
        // Waking is a hint; the consumers' poll still finds the records.
      }
    }
    if (this.#listeners.size === 0 || this.#localPending) return;
    this.#localPending = true;
    queueMicrotask(() => {
      this.#localPending = false;
      this.#fire();
    });
  }

  /** Calls `listener` after appends and parks by any process; returns a function that removes it. */
  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    this.#startWatching();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stopWatching();
    };
  }

  #startWatching(): void {
    if (this.#watcher !== undefined || this.#closed) return;
    try {
      this.#lastVersion = this.#dataVersion();
      this.#watcher = watch(this.#path, { persistent: false }, () => this.#onEvent());
      this.#watcher.on('error', () => this.#stopWatching());
    } catch {
      this.#watcher = undefined;
    }
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  // One commit may bring several events; check once per turn of the event loop.
  #onEvent(): void {
    if (this.#remotePending) return;
    this.#remotePending = true;
    setImmediate(() => {
      this.#remotePending = false;
      if (this.#closed) return;
      let version: number;
      try {
        version = this.#dataVersion();
      } catch {
        return;
      }
      if (version === this.#lastVersion) return; // Our own write: local listeners were called already.
      this.#lastVersion = version;
      this.#fire();
    });
  }

  #fire(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Stops watching and releases the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWatching();
    this.#listeners.clear();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
