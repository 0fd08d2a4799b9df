/**
 * Reading the services' own databases from a test, whichever backend keeps them: the SQLite files of the data
 * folder, or the services' schemas in PostgreSQL (a database created for the run and dropped after it).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SERVICES } from '../../src/contracts/index.ts';
import { schemaOf } from '../../src/runtime/database.ts';

export type ServiceKey = keyof typeof SERVICES;

/** Where the test creates its databases: `HERALD_TEST_DATABASE_URL`, else the local server's `test`. */
export const ADMIN_DATABASE_URL =
  process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Read-only access to each service's tables. Rows come back as the driver gives them (see the callers). */
export interface StateReader {
  all<T>(service: ServiceKey, sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/** Reads the SQLite files `<dataDir>/<service>.db`, opening each read-only for every query. */
export function sqliteReader(dataDir: string): StateReader {
  return {
    all<T>(service: ServiceKey, sql: string) {
      const db = new Database(join(dataDir, `${service}.db`), { readonly: true, fileMustExist: true });
      try {
        return Promise.resolve(db.prepare(sql).all() as T[]);
      } finally {
        db.close();
      }
    },
    close: () => Promise.resolve(),
  };
}

/** Reads the services' schemas in the database at `url`, with one small pool per schema. */
export function postgresReader(url: string): StateReader {
  const pools = new Map<ServiceKey, pg.Pool>();
  const poolOf = (service: ServiceKey): pg.Pool => {
    let pool = pools.get(service);
    if (pool === undefined) {
      pool = new pg.Pool({
        connectionString: url,
        max: 1,
        options: `-c search_path=${schemaOf(SERVICES[service].group)}`,
      });
      pool.on('error', () => undefined);
      pools.set(service, pool);
    }
    return pool;
  };
  return {
    async all<T>(service: ServiceKey, sql: string) {
      const result = await poolOf(service).query(sql);
      return result.rows as T[];
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.end()));
    },
  };
}

/** Whether PostgreSQL answers at the admin URL. */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database for one shop run; resolves with its URL. */
export async function createRunDatabase(): Promise<{ name: string; url: string }> {
  const name = `herald_shop_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Drops a run's database, disconnecting whoever is still on it. */
export async function dropRunDatabase(name: string): Promise<void> {
  await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
