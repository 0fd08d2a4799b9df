import {
  ErrorCodes,
  HeraldError,
  type DeadLetter,
  type DeadLetterFailure,
  type DeadLetterQuery,
  type DeadLetterQueue,
  type ErrorInfo,
  type ReplayOptions,
  type TransportRecord,
} from '@herald/core';
import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { decodeMessage, encodeHeaders, percentDecode, percentEncode } from './cloudevents-binding.ts';
import { mapErrors } from './nats-errors.ts';
import type { Names } from './names.ts';
import type { Topology } from './topology.ts';

/** Headers with which a dead letter (or a replay) carries where it came from and why it failed. */
export const DeadLetterHeaders = {
  group: 'herald-group',
  topic: 'herald-topic',
  partition: 'herald-partition',
  offset: 'herald-offset',
  reason: 'herald-reason',
  attempts: 'herald-attempts',
  error: 'herald-error',
  deadLetterId: 'herald-dead-letter-id',
} as const;

/** A record's place of origin, stored with its dead letter. */
export interface RecordOrigin {
  readonly record: TransportRecord;
  readonly partition: number;
  readonly offset: string;
}

/** The name/value pairs of a message's headers. */
export function headerPairs(headers: MsgHdrs | undefined): [string, string][] {
  if (headers === undefined) return [];
  // One pass over the entries: `keys()` then `values(name)` would scan every key again for each name.
  const pairs: [string, string][] = [];
  for (const [name, values] of headers) for (const value of values) pairs.push([name, value]);
  return pairs;
}

function toHeaders(pairs: readonly (readonly [string, string])[]): MsgHdrs {
  const h = natsHeaders();
  for (const [name, value] of pairs) h.append(name, value);
  return h;
}

function header(pairs: readonly (readonly [string, string])[], name: string): string | undefined {
  const found = pairs.find(([n]) => n.toLowerCase() === name);
  if (found === undefined) return undefined;
  try {
    return percentDecode(found[1]);
  } catch {
    return undefined;
  }
}

const DEFAULT_LIST_LIMIT = 100;

/**
 * The dead-letter queue on JetStream: one stream for every group, a subject per group and topic
 * (`<prefix>.dead_letters.<group>.<topic>`). A dead letter is the record in CloudEvents binary mode plus
 * `herald-*` headers (group, origin, reason, attempts, error), so a plain NATS client can read it too; its id is
 * its stream sequence. A replay publishes the record to the replay stream on the subject of the failed group's
 * partition, which only that group's owner of the partition consumes, and removes the dead letter.
 */
export class NatsDeadLetters implements DeadLetterQueue {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #names: Names;
  readonly #topology: Topology;

  constructor(js: JetStreamClient, jsm: JetStreamManager, names: Names, topology: Topology) {
    this.#js = js;
    this.#jsm = jsm;
    this.#names = names;
    this.#topology = topology;
  }

  /** Stores a record in `group`'s dead-letter queue. Resolves once the server has it. */
  async write(group: string, origin: RecordOrigin, failure: DeadLetterFailure): Promise<void> {
    await this.#topology.deadLetterStream();
    const { record } = origin;
    const pairs = encodeHeaders(record.attributes, record.key);
    pairs.push(
      [DeadLetterHeaders.group, percentEncode(group)],
      [DeadLetterHeaders.topic, percentEncode(record.topic)],
      [DeadLetterHeaders.partition, String(origin.partition)],
      [DeadLetterHeaders.offset, origin.offset],
      [DeadLetterHeaders.reason, percentEncode(failure.reason)],
      [DeadLetterHeaders.attempts, String(failure.attempts)],
      [DeadLetterHeaders.error, percentEncode(JSON.stringify(failure.error))],
    );
    const subject = this.#names.deadLetterSubject(group, record.topic);
    await mapErrors(`dead-lettering to ${subject}`, () =>
      this.#js.publish(subject, record.data, { headers: toHeaders(pairs) }),
    );
  }

  #parse(stored: StoredMsg): DeadLetter | undefined {
    if (!stored.subject.startsWith(`${this.#names.prefix}.dead_letters.`)) return undefined;
    const pairs = headerPairs(stored.header);
    const group = header(pairs, DeadLetterHeaders.group);
    const topic = header(pairs, DeadLetterHeaders.topic);
    if (group === undefined || topic === undefined) return undefined;
    const { key, attributes, data } = decodeMessage(
      pairs.filter(
        ([name]) => !name.toLowerCase().startsWith('herald-') || name.toLowerCase() === 'herald-key',
      ),
      stored.data,
    );
    let error: ErrorInfo = { name: 'Error', message: 'unknown' };
    try {
      error = JSON.parse(header(pairs, DeadLetterHeaders.error) ?? '') as ErrorInfo;
    } catch {
      // Keep the placeholder: a dead letter with an unreadable error is still worth listing.
    }
    return {
      id: String(stored.seq),
      group,
      record: { topic, key, attributes, data: Uint8Array.from(data) },
      partition: Number(header(pairs, DeadLetterHeaders.partition) ?? 0),
      offset: header(pairs, DeadLetterHeaders.offset) ?? '0',
      failure: {
        error,
        attempts: Number(header(pairs, DeadLetterHeaders.attempts) ?? 1),
        reason: header(pairs, DeadLetterHeaders.reason) ?? 'unknown',
      },
      deadLetteredAt: stored.time.toISOString(),
    };
  }

  async list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    await this.#topology.deadLetterStream();
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const filter = this.#names.deadLetterSubject(query.group, query.topic);
    const stream = this.#names.deadLetterStream;
    return mapErrors('listing dead letters', async () => {
      const found: DeadLetter[] = [];
      let seq = 1;
      while (found.length < limit) {
        const stored = await this.#jsm.direct.getMessage(stream, { seq, next_by_subj: filter });
        if (stored === null) break;
        const deadLetter = this.#parse(stored);
        // Wildcards match escaped names only, so the exact group and topic are checked once decoded.
        if (
          deadLetter !== undefined &&
          (query.group === undefined || deadLetter.group === query.group) &&
          (query.topic === undefined || deadLetter.record.topic === query.topic)
        ) {
          found.push(deadLetter);
        }
        seq = stored.seq + 1;
      }
      return found;
    });
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const seq = Number(id);
    if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
    await this.#topology.deadLetterStream();
    const stored = await mapErrors(`reading dead letter ${id}`, () =>
      this.#jsm.streams.getMessage(this.#names.deadLetterStream, { seq }),
    );
    return stored === null ? undefined : this.#parse(stored);
  }

  async replay(id: string, options: ReplayOptions = {}): Promise<void> {
    const deadLetter = await this.get(id);
    if (deadLetter === undefined) {
      throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`, {
        permanent: true,
        details: { id },
      });
    }
    await this.#topology.replayStream();
    const { record } = deadLetter;
    const pairs = encodeHeaders({ ...record.attributes, ...options.attributes }, record.key);
    pairs.push(
      [DeadLetterHeaders.partition, String(deadLetter.partition)],
      [DeadLetterHeaders.offset, deadLetter.offset],
      [DeadLetterHeaders.deadLetterId, id],
    );
    const subject = this.#names.replaySubject(deadLetter.group, record.topic, deadLetter.partition);
    await mapErrors(`replaying dead letter ${id}`, async () => {
      // The message id makes a retried replay (after a failure to remove the dead letter) a no-op.
      await this.#js.publish(subject, options.data ?? record.data, {
        headers: toHeaders(pairs),
        msgID: `${this.#names.deadLetterStream}-${id}`,
      });
      await this.#jsm.streams.deleteMessage(this.#names.deadLetterStream, Number(id), false);
    });
  }

  async discard(id: string): Promise<void> {
    if ((await this.get(id)) === undefined) return;
    await mapErrors(`discarding dead letter ${id}`, () =>
      this.#jsm.streams.deleteMessage(this.#names.deadLetterStream, Number(id), false),
    );
  }
}
