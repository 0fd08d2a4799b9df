import { configError } from '@herald/core';

/** The default of {@link httpTimeoutMs}: a request (headers and body) must arrive whole within 5 s. */
export const DEFAULT_HTTP_TIMEOUT_MS = 5000;

/**
 * How long a client has to send a whole request, headers and body, in milliseconds: `HERALD_HTTP_TIMEOUT_MS`,
 * an integer from 100 to 600000, default {@link DEFAULT_HTTP_TIMEOUT_MS}. Throws `HERALD_CONFIG` naming the
 * variable for any other value.
 */
export function httpTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.HERALD_HTTP_TIMEOUT_MS;
  if (text === undefined || text === '') return DEFAULT_HTTP_TIMEOUT_MS;
  const ms = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(ms) || ms < 100 || ms > 600_000)
    throw configError('HERALD_HTTP_TIMEOUT_MS', 'an integer number of milliseconds from 100 to 600000', text);
  return ms;
}
