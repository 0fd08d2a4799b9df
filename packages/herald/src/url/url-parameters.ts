import { transportUrlError } from './transport-url.ts';

/** How the query parameters of one URL form map onto its transport's options. */
export interface UrlParameterSpec {
  readonly integers?: readonly string[];
  readonly strings?: readonly string[];
  readonly booleans?: readonly string[];
  /** Parameters left in the URL for the client library (amqplib reads `frameMax`, `heartbeat`…). */
  readonly passThrough?: readonly string[];
}

/**
 * Reads `query` into `options` by `spec`: integers must be integers, booleans `true`/`false`; a parameter given
 * twice or not in `spec` throws `HERALD_BROKER_URL` naming the accepted ones. Returns the pass-through parameters.
 */
export function readUrlParameters(
  url: string,
  query: URLSearchParams,
  spec: UrlParameterSpec,
  options: Record<string, unknown>,
): URLSearchParams {
  const kept = new URLSearchParams();
  const accepted = [
    ...(spec.integers ?? []),
    ...(spec.strings ?? []),
    ...(spec.booleans ?? []),
    ...(spec.passThrough ?? []),
  ];
  const seen = new Set<string>();
  for (const [name, value] of query) {
    if (seen.has(name)) throw transportUrlError(url, `parameter "${name}" is given twice`);
    seen.add(name);
    if (spec.integers?.includes(name)) {
      const number = Number(value);
      if (value === '' || !Number.isInteger(number))
        throw transportUrlError(url, `parameter "${name}" must be an integer`);
      options[name] = number;
    } else if (spec.booleans?.includes(name)) {
      if (value !== 'true' && value !== 'false')
        throw transportUrlError(url, `parameter "${name}" must be true or false`);
      options[name] = value === 'true';
    } else if (spec.strings?.includes(name)) {
      options[name] = value;
    } else if (spec.passThrough?.includes(name)) {
      kept.append(name, value);
    } else {
      throw transportUrlError(url, `unknown parameter "${name}" (accepted: ${accepted.join(', ')})`);
    }
  }
  return kept;
}

/** A network URL split without a strict parser: the authority may list several `host:port`. */
export interface NetworkUrlParts {
  /** `user:pass@` with its `@`, or empty. */
  readonly credentials: string;
  /** The `host:port` list as written. */
  readonly hosts: string;
  /** From the first `/` after the authority, up to the query (may be empty). */
  readonly path: string;
  readonly query: URLSearchParams;
}

/** Splits `scheme://[user:pass@]host:port[,host:port…][/path][?query]`; throws `HERALD_BROKER_URL` otherwise. */
export function splitNetworkUrl(url: string, scheme: string): NetworkUrlParts {
  const rest = url.slice(scheme.length + 1);
  if (!rest.startsWith('//')) throw transportUrlError(url, `expected "${scheme}://host:port"`);
  const match = /^\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(rest);
  if (match === null) throw transportUrlError(url, 'not a URL');
  const authority = match[1]!;
  const at = authority.lastIndexOf('@');
  return {
    credentials: at === -1 ? '' : authority.slice(0, at + 1),
    hosts: authority.slice(at + 1),
    path: match[2]!,
    query: new URLSearchParams(match[3] ?? ''),
  };
}

/** `host:port` pairs, comma-separated; a port is required (the engines have no shared default). */
export function hostList(url: string, hosts: string): string[] {
  const list = hosts.split(',').map((h) => h.trim());
  for (const host of list) {
    const port = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(host)?.[1];
    if (port === undefined || Number(port) < 1 || Number(port) > 65_535)
      throw transportUrlError(url, `"${host}" is not host:port`);
  }
  return list;
}
