import { configError } from '@herald/core';

/**
 * How far an acknowledged append is guaranteed to survive. `D1`: a process crash (WAL with
 * `synchronous=NORMAL`, no fsync per commit). `D2`: a power loss too (`synchronous=FULL`, fsync before the ack).
 */
export type SqliteDurability = 'D1' | 'D2';

/** Background deletion of old records. Records are removed oldest first, per partition, never in an append. */
export interface SqliteRetentionOptions {
  /** Delete records appended longer ago than this, ms. */
  readonly maxAgeMs?: number;
  /** Keep at most this many of the newest records per partition. */
  readonly maxRecordsPerPartition?: number;
  /** How often a sweep runs, ms. Default: a quarter of `maxAgeMs`, between 1 s and 60 s (60 s without it). */
  readonly intervalMs?: number;
}

/** Options of the SQLite log store (and of the `sqlite()` transport). */
export interface SqliteLogStoreOptions {
  /** The database file, shared by every process of the machine that uses it. Its folder is created. */
  readonly path: string;
  /** Partitions of each topic this store creates; a topic keeps the count it was created with. Default 4. */
  readonly partitions?: number;
  /** Default `D1`. */
  readonly durability?: SqliteDurability;
  /**
   * How long a consumer keeps its partitions without a heartbeat, ms. The consumer heartbeats on a timer every
   * third of it, whatever its handlers do, so a handler may run longer. Default 10000.
   */
  readonly sessionTimeoutMs?: number;
  /** How long a write waits for another process's write lock before failing, ms. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Background deletion of old records. Default: keep everything. */
  readonly retention?: SqliteRetentionOptions;
}

/** The options with defaults applied, as the store uses them. */
export interface ResolvedSqliteOptions {
  readonly path: string;
  readonly partitions: number;
  readonly durability: SqliteDurability;
  readonly sessionTimeoutMs: number;
  readonly busyTimeoutMs: number;
  readonly retention:
    | { readonly maxAgeMs?: number; readonly maxRecordsPerPartition?: number; readonly intervalMs: number }
    | undefined;
}

/** The most partitions a topic can be created with (`partitions` option). */
export const MAX_PARTITIONS = 1024;

function positiveInteger(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * Checks the options at start-up and applies the defaults. Throws `HERALD_CONFIG` naming the option and what it
 * accepts.
 */
export function resolveSqliteOptions(options: SqliteLogStoreOptions): ResolvedSqliteOptions {
  if (typeof options !== 'object' || options === null) throw configError('options', 'an object', options);
  const { path } = options;
  if (typeof path !== 'string' || path.trim() === '' || path === ':memory:' || path.includes('\0')) {
    throw configError('path', 'a database file path (shared between processes, not ":memory:")', path);
  }
  const durability = options.durability ?? 'D1';
  if (durability !== 'D1' && durability !== 'D2') throw configError('durability', '"D1" or "D2"', durability);
  return {
    path,
    partitions: positiveInteger('partitions', options.partitions ?? 4, 1, MAX_PARTITIONS),
    durability,
    sessionTimeoutMs: positiveInteger('sessionTimeoutMs', options.sessionTimeoutMs ?? 10_000, 30),
    busyTimeoutMs: positiveInteger('busyTimeoutMs', options.busyTimeoutMs ?? 5000, 0, 2 ** 31 - 1),
    retention: resolveRetention(options.retention),
  };
}

function resolveRetention(retention: SqliteRetentionOptions | undefined): ResolvedSqliteOptions['retention'] {
  if (retention === undefined) return undefined;
  if (typeof retention !== 'object' || retention === null) {
    throw configError(
      'retention',
      'an object { maxAgeMs?, maxRecordsPerPartition?, intervalMs? }',
      retention,
    );
  }
  const { maxAgeMs, maxRecordsPerPartition, intervalMs } = retention;
  if (maxAgeMs === undefined && maxRecordsPerPartition === undefined) {
    throw configError('retention', 'maxAgeMs and/or maxRecordsPerPartition', retention);
  }
  if (maxAgeMs !== undefined) positiveInteger('retention.maxAgeMs', maxAgeMs, 1);
  if (maxRecordsPerPartition !== undefined)
    positiveInteger('retention.maxRecordsPerPartition', maxRecordsPerPartition, 1);
  const interval =
    intervalMs === undefined
      ? Math.min(60_000, Math.max(1000, Math.floor((maxAgeMs ?? 240_000) / 4)))
      : positiveInteger('retention.intervalMs', intervalMs, 10, 2 ** 31 - 1);
  return {
    intervalMs: interval,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    ...(maxRecordsPerPartition === undefined ? {} : { maxRecordsPerPartition }),
  };
}
