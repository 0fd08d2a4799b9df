import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens a service's own SQLite database (state + outbox + inbox) for durable, single-writer use: WAL so readers
 * (tests, tools) never block the service; `synchronous = NORMAL`, which in WAL mode survives a killed process
 * (only a power cut can lose the last commits); a busy timeout for the rare writer from outside.
 */
export function openDatabase(file: string): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
