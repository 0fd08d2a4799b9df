import { ErrorCodes, HeraldError, redactUrl, type TransportUrlScheme } from '@herald/core';
import type { SqsTransportOptions } from './sqs-options.ts';
import { sqs } from './sqs-transport.ts';

const BOOLEANS = ['fifo', 'provision', 'tls'] as const;
const INTEGERS = [
  'visibilityTimeoutSeconds',
  'waitTimeSeconds',
  'maxReceiveCount',
  'retentionSeconds',
  'prefetch',
] as const;
const STRINGS = ['region', 'prefix', 'accountId'] as const;
/** The query parameters {@link parseSqsUrl} accepts. */
export const SQS_URL_PARAMETERS: readonly string[] = [...STRINGS, ...BOOLEANS, ...INTEGERS];

const FORMAT =
  'sqs://[host:port][?region=…&fifo=true|false&…] (e.g. "sqs://localhost:4566?region=us-east-1")';

function urlError(url: string, problem: string): HeraldError {
  return new HeraldError(
    ErrorCodes.BROKER_URL,
    `Invalid SNS/SQS URL "${redactUrl(url)}": ${problem}. Expected ${FORMAT}`,
    {
      permanent: true,
      details: { got: redactUrl(url), accepted: SQS_URL_PARAMETERS },
    },
  );
}

/**
 * Parses an `sqs://` URL (what `HERALD_BROKER` holds) into {@link SqsTransportOptions}. Throws `HERALD_BROKER_URL`
 * for a URL it cannot read; the options themselves are checked by {@link sqs} (`HERALD_CONFIG`).
 *
 * - `sqs://` (no host): AWS's endpoints; region and credentials from the SDK's chain.
 * - `sqs://host:port`: that endpoint over HTTP (a local emulator), or HTTPS with `tls=true`.
 * - Parameters: `region`, `fifo`, `provision`, `prefix`, `accountId`, `visibilityTimeoutSeconds`,
 *   `waitTimeSeconds`, `maxReceiveCount`, `retentionSeconds`, `prefetch`, `tls`.
 *
 * Credentials are never read from the URL (`HERALD_BROKER` ends up in logs): they come from the SDK's chain.
 */
export function parseSqsUrl(url: string): SqsTransportOptions {
  if (typeof url !== 'string' || !/^sqs:/i.test(url)) throw urlError(url, 'the scheme is not "sqs:"');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw urlError(url, 'not a URL');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw urlError(
      url,
      'credentials are not read from the URL (use the AWS SDK chain: environment, profile, role)',
    );
  }
  if (parsed.pathname !== '' && parsed.pathname !== '/') throw urlError(url, 'an SNS/SQS URL has no path');
  if (parsed.hash !== '') throw urlError(url, 'an SNS/SQS URL has no fragment');
  const options: Record<string, unknown> = {};
  let tls = false;
  const seen = new Set<string>();
  for (const [name, value] of parsed.searchParams) {
    if (seen.has(name)) throw urlError(url, `parameter "${name}" is given twice`);
    seen.add(name);
    if ((BOOLEANS as readonly string[]).includes(name)) {
      if (value !== 'true' && value !== 'false')
        throw urlError(url, `parameter "${name}" must be true or false`);
      if (name === 'tls') tls = value === 'true';
      else options[name] = value === 'true';
    } else if ((INTEGERS as readonly string[]).includes(name)) {
      if (!/^\d+$/.test(value)) throw urlError(url, `parameter "${name}" must be an integer`);
      options[name] = Number(value);
    } else if ((STRINGS as readonly string[]).includes(name)) {
      options[name] = value;
    } else {
      throw urlError(url, `unknown parameter "${name}" (accepted: ${SQS_URL_PARAMETERS.join(', ')})`);
    }
  }
  if (parsed.host !== '') options.endpoint = `${tls ? 'https' : 'http'}://${parsed.host}`;
  else if (tls) throw urlError(url, '"tls" needs a host (AWS endpoints always use HTTPS)');
  return options;
}

/** The `sqs:` URL form (AWS SNS/SQS), for `transportFromUrl` in `@herald/core`. */
export const sqsUrl: TransportUrlScheme = {
  schemes: ['sqs:'],
  transport: 'sqs',
  form: FORMAT,
  parse: parseSqsUrl,
  create: (url, { onError }) => sqs({ ...parseSqsUrl(url), ...(onError === undefined ? {} : { onError }) }),
};
