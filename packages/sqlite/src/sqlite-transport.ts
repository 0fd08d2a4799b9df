import { logTransport, type LogTransportOptions, type Transport } from '@herald/core';
import type { SqliteLogStoreOptions } from './sqlite-options.ts';
import { SqliteLogStore } from './sqlite-log-store.ts';

/** Options of {@link sqlite}: where the log lives and how it is kept, plus the log engine's tuning. */
export interface SqliteTransportOptions extends SqliteLogStoreOptions, LogTransportOptions {}

/**
 * The embedded durable transport: a partitioned log in a SQLite file shared by every process of the machine.
 * Persistent and cross-process; at-least-once to every group, competing consumers share partitions, order per
 * key, delayed redelivery, dead letters per group, seek. Options are checked at once (`HERALD_CONFIG`).
 *
 * ```ts
 * const transport = sqlite({ path: '.data/herald.db', durability: 'D1' });
 * ```
 */
export function sqlite(options: SqliteTransportOptions): Transport {
  const store = new SqliteLogStore(options);
  try {
    return logTransport(store, {
      // Other processes' appends wake consumers through the store; the poll is only a fallback.
      pollIntervalMs: options.pollIntervalMs ?? 500,
      ...(options.fetchBatch === undefined ? {} : { fetchBatch: options.fetchBatch }),
      ...(options.commitIntervalMs === undefined ? {} : { commitIntervalMs: options.commitIntervalMs }),
    });
  } catch (error) {
    void store.close();
    throw error;
  }
}
