import Database from 'better-sqlite3';
import { ensurePrivateFile, ErrorCodes, HeraldError } from '@herald/core';
import { scheduledTableSql, type ScheduledTableLayout } from './scheduled-table.ts';

/** A better-sqlite3 connection. */
export type SqliteDatabase = Database.Database;

/** Bumped when the layout changes; a file written by a newer layout is refused rather than misread. */
export const SCHEMA_VERSION = 1;

/**
 * Bits of a record key given to the offset: `records.pos = (partitions.id << 40) | offset`, so one integer
 * primary key orders a partition's records and appends land at the end of a b-tree range (about 20% faster
 * appends than a `(topic, partition, offset)` WITHOUT ROWID key, measured on this machine).
 */
export const OFFSET_BITS = 40;
/** The largest offset a partition can hold. */
export const MAX_OFFSET = 2 ** OFFSET_BITS - 1;
/** The largest partition id that still fits the 64-bit signed key. */
export const MAX_PARTITION_ID = 2 ** (63 - OFFSET_BITS) - 1;

/** The log's table of records held for scheduled delivery (see `ScheduledTable`). */
export const SCHEDULED_LAYOUT: ScheduledTableLayout = {
  table: 'scheduled',
  heldAtColumn: 'held_at',
  dueIndex: 'scheduled_by_due',
};

// `part` and `record_offset` rather than `partition`/`offset`, which are SQL keywords.
const DDL = `
CREATE TABLE IF NOT EXISTS topics (
  name TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS partitions (
  id INTEGER PRIMARY KEY,
  topic TEXT NOT NULL,
  part INTEGER NOT NULL,
  UNIQUE (topic, part)
);
CREATE TABLE IF NOT EXISTS records (
  pos INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  key TEXT,
  attributes TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
  grp TEXT NOT NULL,
  member TEXT NOT NULL,
  topics TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (grp, member)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_partitions (
  grp TEXT NOT NULL,
  topic TEXT NOT NULL,
  part INTEGER NOT NULL,
  owner TEXT,
  released INTEGER NOT NULL DEFAULT 0,
  generation INTEGER NOT NULL DEFAULT 0,
  committed INTEGER,
  PRIMARY KEY (grp, topic, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parked (
  park_id INTEGER PRIMARY KEY AUTOINCREMENT,
  grp TEXT NOT NULL,
  topic TEXT NOT NULL,
  part INTEGER NOT NULL,
  record_offset INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  key TEXT,
  attributes TEXT NOT NULL,
  data BLOB NOT NULL,
  attempt INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  error TEXT
);
CREATE INDEX IF NOT EXISTS parked_by_partition ON parked (grp, topic, part, park_id);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  grp TEXT NOT NULL,
  topic TEXT NOT NULL,
  part INTEGER NOT NULL,
  record_offset INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  key TEXT,
  attributes TEXT NOT NULL,
  data BLOB NOT NULL,
  failure TEXT NOT NULL,
  dead_lettered_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_group ON dead_letters (grp, topic, seq);
${scheduledTableSql(SCHEDULED_LAYOUT)}
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Options of {@link openLogDatabase}. */
export interface OpenOptions {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

/**
 * Opens (creating the folder 0700 and the file 0600 if needed, see `ensurePrivateFile`; the WAL and shared-memory
 * files follow the file's mode) a log database in WAL mode with `synchronous=NORMAL`,
 * and creates the schema. Safe when several processes open the same new file at once: the
 * schema is created in a `BEGIN IMMEDIATE` transaction, so one process creates it and the others find it.
 */
export function openLogDatabase(options: OpenOptions): SqliteDatabase {
  try {
    ensurePrivateFile(options.path);
    const db = new Database(options.path, { timeout: options.busyTimeoutMs });
    try {
      db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
      setWal(db, options.busyTimeoutMs);
      // NORMAL: a commit reaches the OS before it returns, so it survives a process crash. D2 appends are then
      // fsynced outside the write lock (WalSync); bookkeeping (offsets, heartbeats, parks) is not.
      db.pragma('synchronous = NORMAL');
      // Readers and writers in other processes must not make the WAL grow without bound between checkpoints.
      db.pragma('journal_size_limit = 67108864');
      db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > SCHEMA_VERSION) {
          throw new HeraldError(
            ErrorCodes.TRANSPORT,
            `${options.path} was written by a newer Herald (schema ${version}, this one knows ${SCHEMA_VERSION})`,
            { permanent: true },
          );
        }
        db.exec(DDL);
        if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    throw new HeraldError(ErrorCodes.TRANSPORT, `Cannot open the log database ${options.path}`, {
      cause: error,
    });
  }
}

/**
 * Switching a new file to WAL takes an exclusive lock that the busy handler does not always wait for (another
 * process may be creating the schema), so retry until the busy timeout.
 */
function setWal(db: SqliteDatabase, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode === 'wal') return;
      throw new Error(`journal_mode is ${String(mode)}, WAL is required`);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}
