/** Why a JSON body was refused: a 400 with a precise `message`, which becomes the problem's `detail`. */
export class JsonBodyError extends Error {
  readonly statusCode: number;
  constructor(message: string, statusCode = 400) {
    super(message);
    this.name = 'JsonBodyError';
    this.statusCode = statusCode;
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const at = (path: readonly (string | number)[]): string => (path.length === 0 ? 'the body' : path.join('.'));

function checkString(text: string, where: string): void {
  const surrogate = LONE_SURROGATE.exec(text);
  if (surrogate !== null) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    throw new JsonBodyError(`${where} contains a lone surrogate (U+${code}): not a Unicode string`);
  }
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw new JsonBodyError(`${where} contains a NUL character (U+0000) at index ${nul}`);
}

/**
 * Parses a request body as strict JSON and returns the value. Refuses, with a {@link JsonBodyError} naming the
 * fault and where: bytes that are not UTF-8 (never replaced with U+FFFD), an empty body, malformed JSON, lone
 * surrogates (`"\ud800"`) and NUL characters in any string or key, and the keys `__proto__`, `constructor` and
 * `prototype` at any depth (prototype pollution in code that merges the body).
 */
export function parseStrictJson(body: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new JsonBodyError(`Body is not valid UTF-8 (invalid byte sequence)`);
  }
  if (text.trim() === '') throw new JsonBodyError('Body is empty; expected a JSON document');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JsonBodyError(`Body is not valid JSON: ${(error as Error).message}`);
  }
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: node, path } = stack.pop()!;
    if (typeof node === 'string') checkString(node, at(path));
    else if (Array.isArray(node)) node.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    else if (typeof node === 'object' && node !== null) {
      for (const [key, item] of Object.entries(node)) {
        if (FORBIDDEN_KEYS.has(key))
          throw new JsonBodyError(`${at(path)} has the forbidden key "${key}" (prototype pollution)`);
        checkString(key, `a key of ${at(path)}`);
        stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return value;
}
