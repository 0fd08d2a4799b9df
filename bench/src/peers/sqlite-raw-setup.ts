import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrialContext, TrialResources } from '../system.ts';
import { openSqlite, SQLITE_RAW_SCHEMA } from './sqlite-raw-schema.ts';

/** A fresh database file per trial. */
export function sqliteRawSetup(context: TrialContext): Promise<TrialResources> {
  const path = join(context.dir, `${context.name}.db`);
  const db = openSqlite(path, 'D1');
  db.exec(SQLITE_RAW_SCHEMA);
  db.close();
  return Promise.resolve({ resources: { path }, teardown: () => removeDatabase(path) });
}

/** Removes a SQLite file with its WAL and shared-memory files. */
export async function removeDatabase(path: string): Promise<void> {
  await Promise.all(
    ['', '-wal', '-shm', '-journal', '-wake'].map((suffix) => rm(`${path}${suffix}`, { force: true })),
  );
}
