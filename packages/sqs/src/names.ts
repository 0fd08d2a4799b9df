import { createHash } from 'node:crypto';

/**
 * Every name the transport gives an AWS resource, in one place, so the topology can be read (and provisioned by
 * infrastructure code) from one file.
 *
 * Herald topic and group names allow `.` and `_`; SNS topic and SQS queue names allow only letters, digits, `-`
 * and `_` (and `.fifo` at the end). {@link escapeName} maps a name injectively into that alphabet without ever
 * producing two `_` in a row, which the composed names use as separators, so two (topic, group) pairs never
 * share a queue.
 */

/** SQS queue names: at most 80 characters, `.fifo` included. */
export const MAX_QUEUE_NAME = 80;
/** SNS topic names: at most 256 characters, `.fifo` included. */
export const MAX_TOPIC_NAME = 256;
const FIFO_SUFFIX = '.fifo';
/** What separates the group from the topic in a queue name: never produced by {@link escapeName}. */
const SEPARATOR = '__';
/** Ends a group's dead-letter queue name; `_dlq` cannot end an escaped name (an escape is `_` + two hex digits). */
const DEAD_LETTER_SUFFIX = '_dlq';

/**
 * Escapes a name into `[A-Za-z0-9_-]`: letters, digits and `-` stay, any other character becomes `_` and two
 * hex digits per UTF-8 byte (`.` → `_2e`, `_` → `_5f`). Injective, and `_` is always followed by a hex digit.
 */
export function escapeName(name: string): string {
  let out = '';
  for (const char of name) {
    if (/^[A-Za-z0-9-]$/.test(char)) out += char;
    else {
      for (const byte of Buffer.from(char, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
    }
  }
  return out;
}

/** Reverses {@link escapeName}; `undefined` for text it cannot have produced. */
export function unescapeName(escaped: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const char = escaped[i]!;
    if (char === '_') {
      const hex = escaped.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (/^[A-Za-z0-9-]$/.test(char)) bytes.push(char.charCodeAt(0));
    else return undefined;
  }
  return Buffer.from(bytes).toString('utf8');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `text` cut to `max` characters, with a hash of the whole text at the end when it had to be cut. */
function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 9)}-${sha256(text).slice(0, 8)}`;
}

/** Printable ASCII without space: what `MessageGroupId` and `MessageDeduplicationId` accept, up to 128. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The FIFO `MessageGroupId` of a partition key: the key itself when SQS accepts it (printable ASCII, at most 128
 * characters), otherwise `sha256:` and its hash. A key always maps to the same group, in every process.
 */
export function messageGroupId(key: string): string {
  return FIFO_ID.test(key) ? key : `sha256:${sha256(key)}`;
}

/** A `MessageDeduplicationId` for `id`: itself when SQS accepts it, otherwise its hash. */
export function deduplicationId(id: string): string {
  return FIFO_ID.test(id) ? id : sha256(id);
}

/** A deduplication id derived from several parts (a dead-lettering, a replay): their hash. */
export function derivedDeduplicationId(...parts: string[]): string {
  return sha256(parts.join('\n'));
}

/** The names of one transport's SNS topics and SQS queues under its `prefix`. */
export class Names {
  readonly prefix: string;
  readonly fifo: boolean;

  constructor(prefix: string, fifo: boolean) {
    this.prefix = prefix;
    this.fifo = fifo;
  }

  get #suffix(): string {
    return this.fifo ? FIFO_SUFFIX : '';
  }

  /** The SNS topic of a Herald topic: `<prefix><topic>[.fifo]`. */
  topic(topic: string): string {
    const room = MAX_TOPIC_NAME - this.prefix.length - this.#suffix.length;
    return `${this.prefix}${fit(escapeName(topic), room)}${this.#suffix}`;
  }

  /** The SQS queue of a group on a topic, subscribed to the topic: `<prefix><group>__<topic>[.fifo]`. */
  queue(topic: string, group: string): string {
    const room = MAX_QUEUE_NAME - this.prefix.length - this.#suffix.length;
    return `${this.prefix}${fit(`${escapeName(group)}${SEPARATOR}${escapeName(topic)}`, room)}${this.#suffix}`;
  }

  /** A group's dead-letter queue, shared by its topics: `<prefix><group>_dlq[.fifo]`. */
  deadLetterQueue(group: string): string {
    const room = MAX_QUEUE_NAME - this.prefix.length - this.#suffix.length - DEAD_LETTER_SUFFIX.length;
    return `${this.prefix}${fit(escapeName(group), room)}${DEAD_LETTER_SUFFIX}${this.#suffix}`;
  }

  /**
   * The group whose dead-letter queue `queueName` is, or `undefined` when it is not one of this transport's (or
   * its name was shortened with a hash, which cannot be reversed).
   */
  groupOfDeadLetterQueue(queueName: string): string | undefined {
    const end = DEAD_LETTER_SUFFIX + this.#suffix;
    if (!queueName.startsWith(this.prefix) || !queueName.endsWith(end)) return undefined;
    return unescapeName(queueName.slice(this.prefix.length, queueName.length - end.length));
  }
}
