import { createHash } from 'node:crypto';
import {
  describeError,
  ErrorCodes,
  HeraldError,
  validateData,
  type DeadLetter,
  type DeadLetterQuery,
  type DeadLetterQueue,
  type ErrorInfo,
  type EventDefinition,
} from '@herald/core';

/**
 * The CloudEvents extension attribute that counts how many times an operator replayed an event: absent on the
 * first failure, set to `1`, `2`... by {@link replayDeadLetters} on each replay (through `ReplayOptions.attributes`),
 * and kept by the transport when the replayed event fails again, so the guard sees the count on the new dead
 * letter. A CloudEvents extension name: lower-case letters and digits.
 */
export const REPLAY_COUNT_ATTRIBUTE = 'heraldreplays';

/** How many times an event may be replayed unless the operator says otherwise. */
export const DEFAULT_MAX_REPLAYS = 3;

/** How many dead letters the operations read at most from a queue (the queue's `list` has no paging). */
export const DEAD_LETTER_SCAN_LIMIT = 10_000;

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX_ID = /\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b/gi;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g;
const NUMBER = /\d+(?:\.\d+)?/g;

/**
 * An error message with what varies between occurrences of one fault replaced: UUIDs by `<uuid>`, ISO times by
 * `<time>`, long hex ids by `<hex>`, other numbers by `<n>`; whitespace collapsed. `order 42 not found` and
 * `order 43 not found` normalise alike.
 */
export function normaliseErrorMessage(message: string): string {
  return message
    .replace(UUID, '<uuid>')
    .replace(ISO_TIME, '<time>')
    .replace(HEX_ID, '<hex>')
    .replace(NUMBER, '<n>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The error group of a dead letter: its consumer group, error class (name and code) and normalised message. */
export interface ErrorGroup {
  /** A short stable key naming the group on the command line (`--error-group`): a hash of what defines it. */
  readonly key: string;
  readonly group: string;
  readonly errorName: string;
  readonly errorCode: string | undefined;
  readonly message: string;
  /** One of the group's messages as it was, not normalised. */
  readonly example: string;
  readonly reasons: readonly string[];
  readonly count: number;
  /** ISO times of the oldest and newest dead-lettering in the group. */
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly topics: readonly string[];
  readonly types: readonly string[];
  /** The dead letters' ids, oldest first. */
  readonly ids: readonly string[];
}

/** The key of the error group `deadLetter` belongs to (see {@link ErrorGroup.key}). */
export function errorGroupKey(deadLetter: DeadLetter): string {
  const { error } = deadLetter.failure;
  const text = [deadLetter.group, error.name, error.code ?? '', normaliseErrorMessage(error.message)].join(
    '\0',
  );
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/**
 * Groups dead letters by consumer group and error (class and normalised message), largest group first (then the
 * most recent). Each group lists its ids oldest first.
 */
export function groupDeadLetters(deadLetters: readonly DeadLetter[]): ErrorGroup[] {
  const sorted = [...deadLetters].sort((a, b) => a.deadLetteredAt.localeCompare(b.deadLetteredAt));
  const groups = new Map<string, DeadLetter[]>();
  for (const deadLetter of sorted) {
    const key = errorGroupKey(deadLetter);
    const members = groups.get(key);
    if (members === undefined) groups.set(key, [deadLetter]);
    else members.push(deadLetter);
  }
  return [...groups.entries()]
    .map(([key, members]): ErrorGroup => {
      const first = members[0]!;
      const { error } = first.failure;
      return {
        key,
        group: first.group,
        errorName: error.name,
        errorCode: error.code,
        message: normaliseErrorMessage(error.message),
        example: error.message,
        reasons: unique(members.map((m) => m.failure.reason)),
        count: members.length,
        firstSeen: first.deadLetteredAt,
        lastSeen: members[members.length - 1]!.deadLetteredAt,
        topics: unique(members.map((m) => m.record.topic)),
        types: unique(members.map((m) => m.record.attributes.type ?? '')).filter((t) => t !== ''),
        ids: members.map((m) => m.id),
      };
    })
    .sort((a, b) => b.count - a.count || b.lastSeen.localeCompare(a.lastSeen));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Reads every dead letter matching `query` (up to {@link DEAD_LETTER_SCAN_LIMIT}). */
export function listAll(
  queue: DeadLetterQueue,
  query: Omit<DeadLetterQuery, 'limit'> = {},
): Promise<DeadLetter[]> {
  return queue.list({ ...query, limit: DEAD_LETTER_SCAN_LIMIT });
}

/** Lists the error groups of the dead letters matching `query`. */
export async function listErrorGroups(
  queue: DeadLetterQueue,
  query: Omit<DeadLetterQuery, 'limit'> = {},
): Promise<ErrorGroup[]> {
  return groupDeadLetters(await listAll(queue, query));
}

/** The ids in the error group `key`. Throws `HERALD_DEAD_LETTER_NOT_FOUND` when no dead letter is in that group. */
export async function idsOfErrorGroup(
  queue: DeadLetterQueue,
  key: string,
  query: Omit<DeadLetterQuery, 'limit'> = {},
): Promise<string[]> {
  const found = (await listErrorGroups(queue, query)).find((g) => g.key === key);
  if (found === undefined) {
    throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter is in error group ${key}`, {
      permanent: true,
      details: { errorGroup: key },
    });
  }
  return [...found.ids];
}

/** How many times an operator has replayed the event of `deadLetter` already ({@link REPLAY_COUNT_ATTRIBUTE}). */
export function replayCount(deadLetter: DeadLetter): number {
  const text = deadLetter.record.attributes[REPLAY_COUNT_ATTRIBUTE];
  const count = text === undefined ? 0 : Number.parseInt(text, 10);
  return Number.isSafeInteger(count) && count > 0 ? count : 0;
}

/** Where a replay stands, after each dead letter. */
export interface ReplayProgress {
  readonly total: number;
  /** Dead letters handled so far (replayed, refused or failed). */
  readonly done: number;
  readonly replayed: number;
  readonly refused: number;
  readonly failed: number;
  /** The dead letter just handled. */
  readonly id: string;
}

/** A clock, so that the rate limit can be tested without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Options of {@link replayDeadLetters}. */
export interface ReplayDeadLettersOptions {
  /** Refuse to replay an event already replayed this many times. Default {@link DEFAULT_MAX_REPLAYS}. */
  readonly maxReplays?: number;
  /** At most this many replays per second (the first at once). Default: no limit. */
  readonly ratePerSecond?: number;
  /** Replaces the payload (for a single edited dead letter). */
  readonly data?: Uint8Array;
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** Stops before the next replay when aborted (Ctrl-C). */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
}

/** What a replay did, per dead letter. */
export interface ReplayReport {
  readonly replayed: string[];
  /** Refused by the guard: already replayed `replays` times. */
  readonly refused: { readonly id: string; readonly replays: number }[];
  readonly failed: { readonly id: string; readonly error: ErrorInfo }[];
  /** Not attempted because the signal aborted. */
  readonly skipped: string[];
}

function checkPositive(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new HeraldError(
      ErrorCodes.CONFIG,
      `Invalid ${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`,
      { permanent: true, details: { option: name, got: value } },
    );
  }
}

/**
 * Replays dead letters one by one to the group that failed, each with its replay count raised by one
 * ({@link REPLAY_COUNT_ATTRIBUTE}). Refuses (and leaves in the queue) an event already replayed `maxReplays`
 * times; records as failed, and goes on past, an id that is gone or a replay the transport rejects. Spaces the
 * replays to at most `ratePerSecond`. Never throws for one dead letter: the report says what happened to each.
 */
export async function replayDeadLetters(
  queue: DeadLetterQueue,
  ids: readonly string[],
  options: ReplayDeadLettersOptions = {},
): Promise<ReplayReport> {
  const maxReplays = options.maxReplays ?? DEFAULT_MAX_REPLAYS;
  checkPositive('maxReplays', maxReplays, true);
  checkPositive('ratePerSecond', options.ratePerSecond, false);
  const clock = options.clock ?? systemClock;
  const interval = options.ratePerSecond === undefined ? 0 : 1000 / options.ratePerSecond;
  const report: ReplayReport = { replayed: [], refused: [], failed: [], skipped: [] };
  const start = clock.now();
  let sent = 0;
  for (const [index, id] of ids.entries()) {
    if (options.signal?.aborted === true) {
      report.skipped.push(...ids.slice(index));
      break;
    }
    try {
      const deadLetter = await queue.get(id);
      if (deadLetter === undefined) {
        throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`, {
          permanent: true,
        });
      }
      const replays = replayCount(deadLetter);
      if (replays >= maxReplays) {
        report.refused.push({ id, replays });
      } else {
        const wait = start + sent * interval - clock.now();
        if (wait > 0) await clock.sleep(wait);
        sent++;
        await queue.replay(id, {
          attributes: { [REPLAY_COUNT_ATTRIBUTE]: String(replays + 1) },
          ...(options.data === undefined ? {} : { data: options.data }),
        });
        report.replayed.push(id);
      }
    } catch (error) {
      report.failed.push({ id, error: describeError(error) });
    }
    options.onProgress?.({
      total: ids.length,
      done: index + 1,
      replayed: report.replayed.length,
      refused: report.refused.length,
      failed: report.failed.length,
      id,
    });
  }
  return report;
}

/** Discards dead letters; the report lists those discarded and those that failed (an unknown id, say). */
export async function discardDeadLetters(
  queue: DeadLetterQueue,
  ids: readonly string[],
): Promise<{ discarded: string[]; failed: { id: string; error: ErrorInfo }[] }> {
  const discarded: string[] = [];
  const failed: { id: string; error: ErrorInfo }[] = [];
  for (const id of ids) {
    try {
      if ((await queue.get(id)) === undefined) {
        throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`, {
          permanent: true,
        });
      }
      await queue.discard(id);
      discarded.push(id);
    } catch (error) {
      failed.push({ id, error: describeError(error) });
    }
  }
  return { discarded, failed };
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** Whether the dead letter's payload is JSON (its `datacontenttype`, JSON when absent as the codec writes). */
export function hasJsonData(deadLetter: DeadLetter): boolean {
  const type = deadLetter.record.attributes.datacontenttype;
  return type === undefined || JSON_CONTENT_TYPE.test(type);
}

/** The payload decoded: parsed JSON when it is JSON and parses, else the text (UTF-8). */
export function decodeData(deadLetter: DeadLetter): unknown {
  const text = new TextDecoder().decode(deadLetter.record.data);
  if (!hasJsonData(deadLetter)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Checks edited data for a JSON dead letter: validated against `definition`'s schema when the event is known
 * (throws permanent `HERALD_VALIDATION` listing the issues), and encoded as the payload of the replay. Throws
 * `HERALD_UNSUPPORTED` when the payload is not JSON.
 */
export async function encodeEditedData(
  deadLetter: DeadLetter,
  data: unknown,
  definition: EventDefinition | undefined,
): Promise<Uint8Array> {
  if (!hasJsonData(deadLetter)) {
    throw new HeraldError(
      ErrorCodes.UNSUPPORTED,
      `Dead letter ${deadLetter.id} holds ${deadLetter.record.attributes.datacontenttype ?? 'unknown'} data; only JSON data can be edited`,
      { permanent: true },
    );
  }
  // Validated, but the data is replayed as given: the consumer validates (and transforms) it again.
  if (definition !== undefined) await validateData(definition, data);
  return new TextEncoder().encode(JSON.stringify(data));
}

/**
 * Edits a dead letter's data (validated as {@link encodeEditedData}) and replays it, under the replay guard.
 */
export async function editAndReplay(
  queue: DeadLetterQueue,
  id: string,
  data: unknown,
  options: { definition?: EventDefinition | undefined; maxReplays?: number } = {},
): Promise<ReplayReport> {
  const deadLetter = await queue.get(id);
  if (deadLetter === undefined) {
    throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`, {
      permanent: true,
    });
  }
  const encoded = await encodeEditedData(deadLetter, data, options.definition);
  return replayDeadLetters(queue, [id], {
    data: encoded,
    ...(options.maxReplays === undefined ? {} : { maxReplays: options.maxReplays }),
  });
}
