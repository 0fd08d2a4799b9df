// Talks to the console's API: JSON in and out, the operator's token (kept for this tab only) on admin actions.
const TOKEN_KEY = 'herald-console-token';

/** The token the operator entered, if any. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Remembers the token for this tab (cleared when the tab closes). */
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An error the API answered with, its message for the page. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && token()) headers.authorization = `Bearer ${token()}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** GET a JSON resource. */
export const get = (path) => call('GET', path);
/** POST JSON (admin actions carry the token). */
export const post = (path, body) => call('POST', path, body ?? {});
