import { z } from 'zod';

/** The largest `?limit=` a list view accepts. */
export const MAX_PAGE_LIMIT = 1000;
/** The page size of a list view without `?limit=`. */
export const DEFAULT_PAGE_LIMIT = 100;

/**
 * The query of a keyset-paginated list view: `limit` (1 to {@link MAX_PAGE_LIMIT}, default
 * {@link DEFAULT_PAGE_LIMIT}) and `after`, the cursor of the last row of the previous page (a row id, as the
 * `Link: <…>; rel="next"` header of that page gives it). Anything else is a 400.
 */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT),
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'must be the cursor of a previous page (a row id)')
    .transform(Number)
    .default(0),
});

/**
 * The `Link` header value pointing at the page after one that ended on cursor `last`, or `undefined` when the
 * page was not full (it was the last one). A full last page yields a link to an empty page: the cost of not
 * counting rows.
 */
export function nextLink(
  path: string,
  limit: number,
  rows: number,
  last: number | undefined,
): string | undefined {
  if (rows < limit || last === undefined) return undefined;
  return `<${path}?limit=${limit}&after=${last}>; rel="next"`;
}
