/** Query parameters whose values are secrets wherever they appear in a URL. */
const SECRET_PARAMETERS =
  /^(?:password|pass|passwd|pwd|secret|token|auth_?token|api_?key|access_?key|secret_?key|sasl_?password|passphrase)$/i;

/** `scheme://` where a URL starts inside `text`. */
const SCHEME_START = /[A-Za-z][A-Za-z0-9+.-]*:\/\//g;

/** Masks the user-info of one `scheme://…` token: `user:***@` (or `***@` for a token given as the user). */
function maskAuthority(token: string): string {
  // The user-info ends at the last `@` of the URL. That reads a password holding characters a strict URL parser
  // refuses (`/`, `?`, `#`, `@` unencoded) and, at worst, masks too much of an odd query: never too little.
  const at = token.lastIndexOf('@');
  if (at === -1) return maskQuery(token);
  const userInfo = token.slice(0, at);
  const colon = userInfo.indexOf(':');
  const rest = token.slice(at);
  const query = rest.search(/[?#]/);
  const masked = colon === -1 ? '***' : `${userInfo.slice(0, colon)}:***`;
  return query === -1 ? masked + rest : masked + rest.slice(0, query) + maskQuery(rest.slice(query));
}

function maskQuery(token: string): string {
  const start = token.indexOf('?');
  if (start === -1) return token;
  return token.slice(0, start) + maskParameters(token.slice(start));
}

function maskParameters(tail: string): string {
  return tail.replace(/([?&])([^=&#]+)=([^&#]*)/g, (whole, sep: string, name: string) =>
    SECRET_PARAMETERS.test(decodeURIComponentSafe(name)) ? `${sep}${name}=***` : whole,
  );
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * `text` with the credentials of every URL in it masked: the password of `scheme://user:password@host` becomes
 * `***` (a bare `scheme://token@host`, as NATS takes a token, becomes `***@host`), and secret query parameters
 * (`password`, `token`, `secret`, `apiKey`…) become `***`. It never parses strictly, so a URL that `new URL()`
 * refuses (several hosts, a bad port, an unencoded `/` or `@` in the password) is masked all the same; text that
 * holds no URL is returned as it is. Use it on anything a log line or an error message shows.
 */
export function redactUrl(text: string): string {
  const starts = [...text.matchAll(SCHEME_START)].map((match) => match.index);
  if (starts.length === 0) return text;
  let out = text.slice(0, starts[0]);
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i]!;
    const next = starts[i + 1] ?? text.length;
    const segment = text.slice(start, next);
    const schemeEnd = segment.indexOf('://') + 3;
    // A URL ends at white space or a quote; a comma-separated list of URLs is split by the scheme matches.
    const stop = segment.slice(schemeEnd).search(/[\s"'<>`]/);
    const urlEnd = stop === -1 ? segment.length : schemeEnd + stop;
    out +=
      segment.slice(0, schemeEnd) + maskAuthority(segment.slice(schemeEnd, urlEnd)) + segment.slice(urlEnd);
  }
  return out;
}
