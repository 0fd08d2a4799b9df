import { configError, redactUrl } from '@herald/core';

const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:']);

/**
 * Checks `DATABASE_URL` at start-up: unset or empty (state in the data folder), or a `postgres://` /
 * `postgresql://` URL that parses. Anything else throws `HERALD_CONFIG` naming the option, with the password
 * masked, instead of a connection failure from each service seconds later.
 */
export function checkDatabaseUrl(env: NodeJS.ProcessEnv = process.env): void {
  const url = env.DATABASE_URL;
  if (url === undefined || url === '') return;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !POSTGRES_SCHEMES.has(parsed.protocol)) {
    throw configError(
      'DATABASE_URL',
      'a PostgreSQL URL (postgres://user:password@host:5432/database), or unset for the data folder',
      redactUrl(url),
    );
  }
}
