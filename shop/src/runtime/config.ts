import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { configError } from '@herald/core';

/** The repository root (this file is `shop/src/runtime/config.ts`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The durable data folder of the shop: every service's database and the embedded broker live here.
 * `HERALD_DATA_DIR`, default `<repo>/.data` (git-ignored).
 */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.HERALD_DATA_DIR;
  return dir === undefined || dir === '' ? resolve(REPO_ROOT, '.data') : resolve(dir);
}

/** Reads a TCP port from `env[name]` (0 = any free port). Throws `HERALD_CONFIG` naming the variable. */
export function portFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw configError(name, 'a port from 0 to 65535', text);
  return port;
}

/** The interface the services listen on. Loopback only: this is a local reference system. */
export const HOST = '127.0.0.1';

/**
 * Reads `HERALD_ACCEPT_PLAIN_JSON`: `1`/`true` lets the services read plain `{"event": …, "data": …}` JSON from
 * clients outside Herald (see `plain-json-interop.ts`); unset, empty, `0` or `false` (the default) refuses it.
 * Throws `HERALD_CONFIG` naming the variable for anything else.
 */
export function acceptPlainJsonFrom(env: NodeJS.ProcessEnv): boolean {
  const text = env.HERALD_ACCEPT_PLAIN_JSON;
  if (text === undefined || text === '' || text === '0' || text === 'false') return false;
  if (text === '1' || text === 'true') return true;
  throw configError('HERALD_ACCEPT_PLAIN_JSON', '1, true, 0 or false', text);
}

/**
 * Reads `INVENTORY_INITIAL_STOCK`: the units of every SKU a new inventory store is seeded with (benchmarks and
 * load tests order far more than the catalogue's shelves hold). Unset or empty: the catalogue's stock. Throws
 * `HERALD_CONFIG` naming the variable for anything but an integer from 1 to 1,000,000,000.
 */
export function initialStockFrom(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.INVENTORY_INITIAL_STOCK;
  if (text === undefined || text === '') return undefined;
  const units = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(units) || units < 1 || units > 1_000_000_000)
    throw configError('INVENTORY_INITIAL_STOCK', 'an integer from 1 to 1000000000', text);
  return units;
}

/** The default payment deadline of an order: 15 minutes. */
export const DEFAULT_PAYMENT_DEADLINE_MS = 15 * 60_000;

/**
 * Reads `ORDER_PAYMENT_DEADLINE_MS`: how long after it was placed an order still unpaid is cancelled. Unset or
 * empty: {@link DEFAULT_PAYMENT_DEADLINE_MS}. Throws `HERALD_CONFIG` naming the variable for anything but an
 * integer from 100 ms to 30 days.
 */
export function paymentDeadlineFrom(env: NodeJS.ProcessEnv): number {
  const text = env.ORDER_PAYMENT_DEADLINE_MS;
  if (text === undefined || text === '') return DEFAULT_PAYMENT_DEADLINE_MS;
  const ms = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(ms) || ms < 100 || ms > 30 * 86_400_000)
    throw configError('ORDER_PAYMENT_DEADLINE_MS', 'an integer number of ms from 100 to 2592000000', text);
  return ms;
}
