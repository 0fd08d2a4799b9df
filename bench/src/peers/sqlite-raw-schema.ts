import Database from 'better-sqlite3';
import type { Durability } from '../protocol.ts';

/** The raw ceiling's log: one table of events by rowid. */
export const SQLITE_RAW_SCHEMA =
  'CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, key TEXT, body TEXT NOT NULL)';

/** Opens the file in WAL mode; D1 is `synchronous=NORMAL` (no fsync per commit), D2 is `FULL`. */
export function openSqlite(path: string, durability: Durability): Database.Database {
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'D2' ? 'FULL' : 'NORMAL'}`);
  return db;
}
