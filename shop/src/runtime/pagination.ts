import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fieldErrors, sendProblem, validationProblem } from './problem.ts';

/** The largest `?limit=` a list view accepts. */
export const MAX_PAGE_LIMIT = 1000;
/** The page size of a list view without `?limit=`. */
export const DEFAULT_PAGE_LIMIT = 100;
/** The longest row key a {@link KeyPageQuery} cursor may carry (the shop's keys are ids of at most 200 characters). */
const MAX_CURSOR_KEY_LENGTH = 400;

const Limit = z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT);

/**
 * The query of a keyset-paginated list view: `limit` (1 to {@link MAX_PAGE_LIMIT}, default
 * {@link DEFAULT_PAGE_LIMIT}) and `after`, the cursor of the last row of the previous page (a row id, as the
 * `Link: <…>; rel="next"` header of that page gives it). Anything else is a 400.
 */
export const PageQuery = z.object({
  limit: Limit,
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'must be the cursor of a previous page (a row id)')
    .transform(Number)
    .default(0),
});

/** The text of a cursor naming the row whose key is `key`: its UTF-8 in base64url, safe in a URL as it is. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

/**
 * The key a cursor made by {@link encodeCursor} names, or `undefined` when `text` is not one (not canonical
 * base64url, not UTF-8, empty, or longer than a key can be).
 */
export function decodeCursor(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length > Math.ceil((MAX_CURSOR_KEY_LENGTH * 4 * 4) / 3)) {
    return undefined;
  }
  const bytes = Buffer.from(text, 'base64url');
  // Canonical only: one cursor per key, and bytes that are not valid UTF-8 do not silently become U+FFFD.
  if (bytes.toString('base64url') !== text) return undefined;
  let key: string;
  try {
    key = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return key.length === 0 || key.length > MAX_CURSOR_KEY_LENGTH ? undefined : key;
}

/**
 * The query of a list view paginated on a text key (an order or notification id): `limit` as in
 * {@link PageQuery}, and `after`, the opaque cursor (see {@link encodeCursor}) of the last row of the previous
 * page, as its `Link: <…>; rel="next"` header gives it; absent for the first page. Anything else is a 400.
 */
export const KeyPageQuery = z.object({
  limit: Limit,
  after: z
    .string()
    .transform((text, context) => {
      const key = decodeCursor(text);
      if (key === undefined) {
        context.addIssue({ code: 'custom', message: 'must be the cursor of a previous page' });
        return z.NEVER;
      }
      return key;
    })
    .optional(),
});

/**
 * The `Link` header value pointing at the page after one that ended on cursor `last` (a row id, or a text key
 * that is encoded with {@link encodeCursor}), or `undefined` when the page was not full (it was the last one). A
 * full last page yields a link to an empty page: the cost of not counting rows.
 */
export function nextLink(
  path: string,
  limit: number,
  rows: number,
  last: number | string | undefined,
): string | undefined {
  if (rows < limit || last === undefined) return undefined;
  const cursor = typeof last === 'number' ? String(last) : encodeCursor(last);
  return `<${path}?limit=${limit}&after=${cursor}>; rel="next"`;
}

/**
 * Serves one page of a list keyed by a text key: parses {@link KeyPageQuery} (a 400 problem when invalid), reads
 * the page with `read` (which returns `undefined` when `after` names no row: a 400 problem too, never a silently
 * empty page), sets the `Link` header when the page is full, and returns the rows mapped by `view`.
 */
export async function servePage<Row, View>(
  request: FastifyRequest,
  reply: FastifyReply,
  options: {
    readonly path: string;
    readonly read: (after: string | undefined, limit: number) => Promise<readonly Row[] | undefined>;
    readonly keyOf: (row: Row) => string;
    readonly view: (row: Row) => View;
  },
): Promise<View[] | FastifyReply> {
  const parsed = KeyPageQuery.safeParse(request.query);
  if (!parsed.success)
    return sendProblem(reply, validationProblem(fieldErrors(parsed.error), request.url, 'Invalid query'));
  const { limit, after } = parsed.data;
  const page = await options.read(after, limit);
  if (page === undefined) {
    return sendProblem(
      reply,
      validationProblem(
        [{ field: 'after', message: 'names no row: use the cursor of a previous page' }],
        request.url,
        'Invalid query',
      ),
    );
  }
  const last = page.at(-1);
  const link = nextLink(
    options.path,
    limit,
    page.length,
    last === undefined ? undefined : options.keyOf(last),
  );
  if (link !== undefined) void reply.header('link', link);
  return page.map(options.view);
}
