import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { apiCode, JsCodes, mapErrors } from './nats-errors.ts';
import type { Names } from './names.ts';

/** Who owns a partition in a group. `member: null` is a released claim. */
export interface Claim {
  readonly member: string | null;
  /**
   * Set when the claim was taken from a member presumed dead: deliveries it had in flight are still pending on
   * the server until the ack wait expires, so the new owner waits that long before pulling (to get them first).
   */
  readonly dirty: boolean;
  /** The claim's stream sequence, for compare-and-set. */
  readonly revision: number;
}

/** A key of a partition waiting for a record under delayed redelivery, as persisted for the next owner. */
export interface Park {
  readonly key: string;
  /** `main:<seq>` or `replay:<seq>`. */
  readonly id: string;
  readonly dueAt: number;
  /** The attempt its next delivery carries. */
  readonly attempt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Consumer-group state in one JetStream stream that keeps the last message per subject, like a key-value
 * bucket: partition claims (changed only by compare-and-set on the subject's sequence, so at most one member
 * owns a partition) and parked keys (so a partition's next owner keeps their order).
 */
export class GroupState {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #names: Names;

  constructor(js: JetStreamClient, jsm: JetStreamManager, names: Names) {
    this.#js = js;
    this.#jsm = jsm;
    this.#names = names;
  }

  async readClaim(group: string, topic: string, partition: number): Promise<Claim | undefined> {
    const subject = this.#names.claimSubject(group, topic, partition);
    const stored = await mapErrors(`reading claim ${subject}`, () =>
      this.#jsm.streams.getMessage(this.#names.groupStream, { last_by_subj: subject }),
    );
    if (stored === null) return undefined;
    const value = JSON.parse(decoder.decode(stored.data)) as { member?: unknown; dirty?: unknown };
    return {
      member: typeof value.member === 'string' ? value.member : null,
      dirty: value.dirty === true,
      revision: stored.seq,
    };
  }

  /**
   * Writes a claim if the subject's last sequence is still `expected` (0: no claim yet). Resolves to the new
   * revision, or `undefined` when another member wrote first.
   */
  async writeClaim(
    group: string,
    topic: string,
    partition: number,
    value: { member: string | null; dirty: boolean },
    expected: number,
  ): Promise<number | undefined> {
    const subject = this.#names.claimSubject(group, topic, partition);
    return mapErrors(`writing claim ${subject}`, async () => {
      try {
        const ack = await this.#js.publish(subject, encoder.encode(JSON.stringify(value)), {
          expect: { lastSubjectSequence: expected },
        });
        return ack.seq;
      } catch (error) {
        if (apiCode(error) === JsCodes.WrongLastSequence) return undefined;
        throw error;
      }
    });
  }

  async putPark(group: string, topic: string, partition: number, park: Park): Promise<void> {
    const subject = this.#names.parkSubject(group, topic, partition, park.key);
    await mapErrors(`parking ${subject}`, () =>
      this.#js.publish(subject, encoder.encode(JSON.stringify(park))),
    );
  }

  async deletePark(group: string, topic: string, partition: number, key: string): Promise<void> {
    const subject = this.#names.parkSubject(group, topic, partition, key);
    await mapErrors(`unparking ${subject}`, () =>
      this.#jsm.streams.purge(this.#names.groupStream, { filter: subject }),
    );
  }

  async loadParks(group: string, topic: string, partition: number): Promise<Park[]> {
    const filter = this.#names.partitionParksFilter(group, topic, partition);
    return mapErrors(`loading parks ${filter}`, async () => {
      const info = await this.#jsm.streams.info(this.#names.groupStream, { subjects_filter: filter });
      const parks: Park[] = [];
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        let stored;
        try {
          stored = await this.#jsm.streams.getMessage(this.#names.groupStream, { last_by_subj: subject });
        } catch (error) {
          if (apiCode(error) === JsCodes.NoMessageFound) continue;
          throw error;
        }
        if (stored === null) continue;
        const value = JSON.parse(decoder.decode(stored.data)) as Partial<Park>;
        if (
          typeof value.key === 'string' &&
          typeof value.id === 'string' &&
          typeof value.dueAt === 'number'
        ) {
          const attempt = typeof value.attempt === 'number' && value.attempt >= 1 ? value.attempt : 1;
          parks.push({ key: value.key, id: value.id, dueAt: value.dueAt, attempt });
        }
      }
      return parks;
    });
  }
}
