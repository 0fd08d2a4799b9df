import { isAbsolute, resolve } from 'node:path';
import { readUrlParameters, transportUrlError, type TransportUrlScheme } from '@herald/core';
import type { SqliteLogStoreOptions } from './sqlite-options.ts';
import { sqlite } from './sqlite-transport.ts';

/**
 * Reads `sqlite:PATH` (also `sqlite://PATH` and `sqlite:///abs/path`) into {@link SqliteLogStoreOptions}: a
 * relative PATH is resolved against the current directory; parameters `partitions`, `sessionTimeoutMs`,
 * `busyTimeoutMs`, `durability` (`D1`|`D2`). Throws `HERALD_BROKER_URL` for a URL it cannot read.
 */
export function parseSqliteUrl(url: string): SqliteLogStoreOptions {
  if (!/^sqlite:/i.test(url)) throw transportUrlError(url, 'the scheme is not "sqlite:"');
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  const queryAt = rest.indexOf('?');
  let pathText: string;
  try {
    pathText = decodeURIComponent(queryAt === -1 ? rest : rest.slice(0, queryAt));
  } catch {
    throw transportUrlError(url, 'the path is not valid percent-encoding');
  }
  if (pathText === '') throw transportUrlError(url, 'no database path');
  const options: Record<string, unknown> = { path: isAbsolute(pathText) ? pathText : resolve(pathText) };
  readUrlParameters(
    url,
    new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1)),
    { integers: ['partitions', 'sessionTimeoutMs', 'busyTimeoutMs'], strings: ['durability'] },
    options,
  );
  return options as unknown as SqliteLogStoreOptions;
}

/** The `sqlite:` URL form, for `transportFromUrl` in `@herald/core`. */
export const sqliteUrl: TransportUrlScheme = {
  schemes: ['sqlite:'],
  transport: 'sqlite',
  form: 'sqlite:PATH[?partitions=…&durability=D1|D2]',
  parse: parseSqliteUrl,
  create: (url) => sqlite(parseSqliteUrl(url)),
};
