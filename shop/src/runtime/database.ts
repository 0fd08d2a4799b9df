import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { dataDir } from './config.ts';
import { ensurePrivateFile, redactUrl } from '@herald/core';
import type { Database as ServiceDatabase } from './storage.ts';
import { checkDatabaseUrl } from './database-url.ts';

/**
 * Opens a service's own SQLite database (state + outbox + inbox) for durable use, created private to its owner
 * (`ensurePrivateFile`: file 0600, new folders 0700; an existing file keeps its mode): WAL so readers (tests, tools)
 * never block the service; `synchronous = NORMAL`, which in WAL mode survives a killed process (only a power cut
 * can lose the last commits); a busy timeout for other writers of the file (instances sharing it, tools).
 */
export function openDatabase(file: string): Database.Database {
  // State, outbox and inbox are the business's data: the file (so its WAL and shared memory) 0600, folders 0700.
  ensurePrivateFile(file);
  // The busy timeout first: instances of one service opening its file together wait for each other's
  // `journal_mode` switch instead of failing with SQLITE_BUSY.
  const db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** The PostgreSQL schema of a service: its group with `_` for `-` (`payment-service` → `payment_service`). */
export function schemaOf(group: string): string {
  return group.replaceAll('-', '_');
}

/** A service's database as its process opened it, with the way to close it. */
export interface OpenedDatabase {
  readonly database: ServiceDatabase;
  /** For logs: the file, or the PostgreSQL URL without its password, and the schema. */
  readonly description: string;
  /** Resolves when the database answers a query (`SELECT 1`), for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The database of service `name` (`order`, `payment`…; group `group`): the schema `schemaOf(group)` in PostgreSQL
 * when `DATABASE_URL` is set, else `<data dir>/<name>.db`. Instances of one service given the same `DATABASE_URL`
 * (or data folder) share one state.
 */
export function databaseFromEnv(
  name: string,
  group: string,
  env: NodeJS.ProcessEnv = process.env,
): OpenedDatabase {
  checkDatabaseUrl(env);
  const url = env.DATABASE_URL;
  if (url === undefined || url === '') {
    const db = openDatabase(resolve(dataDir(env), `${name}.db`));
    return {
      database: { kind: 'sqlite', db },
      description: db.name,
      ping: () => {
        db.prepare('SELECT 1').get();
        return Promise.resolve();
      },
      close: () => {
        db.close();
        return Promise.resolve();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 10_000 });
  // An idle client whose connection dies emits `error` on the pool; without a listener Node would crash. The pool
  // replaces it; the next query reports any lasting failure.
  pool.on('error', () => undefined);
  const schema = schemaOf(group);
  return {
    database: { kind: 'postgres', pool, schema },
    description: `${redactUrl(url)} schema ${schema}`,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}
