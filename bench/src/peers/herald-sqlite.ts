import type { Transport } from '@herald/core';
import type { Durability } from '../protocol.ts';

/** The options of `sqlite()` from `@herald/sqlite` that the benchmark sets. */
export interface HeraldSqliteOptions {
  readonly path: string;
  readonly durability: Durability;
}

export type HeraldSqliteFactory = (options: HeraldSqliteOptions) => Transport;

/**
 * `sqlite` from `@herald/sqlite`, or undefined while the package does not export it yet: the benchmark then
 * runs the peers alone and says so.
 */
export async function loadHeraldSqlite(): Promise<HeraldSqliteFactory | undefined> {
  const module = (await import('@herald/sqlite')) as Record<string, unknown>;
  return typeof module.sqlite === 'function' ? (module.sqlite as HeraldSqliteFactory) : undefined;
}
