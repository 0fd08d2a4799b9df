import { ErrorCodes, HeraldError } from '../errors.ts';
import type { DeadLetter, DeadLetterQuery } from '../transport.ts';

/** How many dead letters `list` returns when the query sets no `limit`. */
export const DEFAULT_DEAD_LETTER_LIMIT = 100;

/**
 * Looks at a dead letter a scan reached. `handle` is what the transport needs to act on it (the broker's
 * message, a function that removes it). Resolves `true` to end the scan.
 */
export type DeadLetterVisit<H extends unknown[]> = (
  deadLetter: DeadLetter,
  ...handle: H
) => boolean | Promise<boolean>;

/**
 * A dead-letter queue a transport can only read front to back (a RabbitMQ or SQS queue per group): the
 * helpers below build `list`, `get`, `replay` and `discard` on it.
 */
export interface DeadLetterScan<H extends unknown[]> {
  /** The groups `list` looks through when the query names none. */
  groups(): Iterable<string> | Promise<Iterable<string>>;
  /** Visits the group's dead letters in order until `visit` resolves `true` or none is left. */
  scan(group: string, visit: DeadLetterVisit<H>): Promise<void>;
}

/** The group of a dead letter's id of the form `<group>:<rest>`; `undefined` for any other id. */
export function deadLetterGroup(id: string): string | undefined {
  const at = id.indexOf(':');
  return at > 0 ? id.slice(0, at) : undefined;
}

/** The error for an id no dead letter has: `HERALD_DEAD_LETTER_NOT_FOUND`. */
export function deadLetterNotFound(id: string): HeraldError {
  return new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`);
}

/**
 * `DeadLetterQueue.list` over a scan: the query's group (or every group, in the order `groups()` gives), the
 * query's topic only, at most `limit` (default {@link DEFAULT_DEAD_LETTER_LIMIT}); each scan stops at the limit.
 */
export async function listDeadLetters<H extends unknown[]>(
  source: DeadLetterScan<H>,
  query: DeadLetterQuery = {},
): Promise<DeadLetter[]> {
  const limit = query.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
  const groups = query.group !== undefined ? [query.group] : await source.groups();
  const found: DeadLetter[] = [];
  for (const group of groups) {
    if (found.length >= limit) break;
    await source.scan(group, (deadLetter, ..._handle: H) => {
      if (query.topic === undefined || deadLetter.record.topic === query.topic) found.push(deadLetter);
      return found.length >= limit;
    });
  }
  return found;
}

/**
 * Scans the group named in `id` (see {@link deadLetterGroup}) for the dead letter with that id and runs
 * `action` on it; the scan ends there. Resolves whether it was found.
 */
export async function withDeadLetter<H extends unknown[]>(
  source: DeadLetterScan<H>,
  id: string,
  action: (deadLetter: DeadLetter, ...handle: H) => void | Promise<void>,
): Promise<boolean> {
  const group = deadLetterGroup(id);
  if (group === undefined) return false;
  let found = false;
  await source.scan(group, async (deadLetter, ...handle) => {
    if (deadLetter.id !== id) return false;
    found = true;
    await action(deadLetter, ...handle);
    return true;
  });
  return found;
}

/** `DeadLetterQueue.get` over a scan: the dead letter with that id, or `undefined`. */
export async function getDeadLetter<H extends unknown[]>(
  source: DeadLetterScan<H>,
  id: string,
): Promise<DeadLetter | undefined> {
  let result: DeadLetter | undefined;
  await withDeadLetter(source, id, (deadLetter, ..._handle: H) => {
    result = deadLetter;
  });
  return result;
}
