/**
 * Every name the transport gives a NATS object, in one place, so the topology can be read (and documented) from
 * one file. Group and topic names allow characters NATS forbids in stream and consumer names (`.`) or that would
 * make names ambiguous, so they are escaped with {@link escapeName}.
 */

/**
 * Escapes a name into `[A-Za-z0-9_]`: letters and digits stay, any other character becomes `_` and two hex
 * digits of its code (`.` → `_2e`, `-` → `_2d`, `_` → `_5f`). Injective, so two groups never share a consumer,
 * and the result never contains `-`, which the composed names below use as their separator.
 */
export function escapeName(name: string): string {
  let out = '';
  for (const char of name) {
    if (/^[A-Za-z0-9]$/.test(char)) out += char;
    else {
      for (const byte of Buffer.from(char, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
    }
  }
  return out;
}

/** Encodes a partition key as one subject token: `k` and its base64url form (the key may be empty). */
export function keyToken(key: string): string {
  return `k${Buffer.from(key, 'utf8').toString('base64url')}`;
}

/** The names of one transport's NATS objects under its `prefix`. */
export class Names {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** The stream holding a topic, with one subject per partition. */
  topicStream(topic: string): string {
    return `${this.prefix}_${escapeName(topic)}`;
  }

  /** The subject of one partition of a topic: `<topic>.<partition>`, readable by any NATS client. */
  partitionSubject(topic: string, partition: number): string {
    return `${topic}.${partition}`;
  }

  /** The subjects of a topic stream with `partitions` partitions. */
  topicSubjects(topic: string, partitions: number): string[] {
    return Array.from({ length: partitions }, (_, p) => this.partitionSubject(topic, p));
  }

  /**
   * The partition count of a topic stream, read back from its subjects (so every process agrees on it, whatever
   * its own `partitions` option), or `undefined` when the subjects are not `<topic>.0` … `<topic>.<n-1>`.
   */
  partitionsFromSubjects(topic: string, subjects: readonly string[]): number | undefined {
    const partitions = new Set<number>();
    for (const subject of subjects) {
      if (!subject.startsWith(`${topic}.`)) return undefined;
      const rest = subject.slice(topic.length + 1);
      if (!/^(0|[1-9][0-9]*)$/.test(rest)) return undefined;
      partitions.add(Number(rest));
    }
    const n = partitions.size;
    if (n === 0 || n !== subjects.length) return undefined;
    for (let p = 0; p < n; p++) if (!partitions.has(p)) return undefined;
    return n;
  }

  /** The durable consumer of one group on one partition of a topic (in the topic's stream). */
  partitionConsumer(group: string, partition: number): string {
    return `${escapeName(group)}-${partition}`;
  }

  /** The stream of records replayed from dead-letter queues, each addressed to one group (work-queue). */
  get replayStream(): string {
    return `${this.prefix}_replays`;
  }

  replaySubject(group: string, topic: string, partition: number): string {
    return `${this.prefix}.replays.${escapeName(group)}.${escapeName(topic)}.${partition}`;
  }

  /** The durable consumer of one group's replays for one partition of a topic (in the replay stream). */
  replayConsumer(group: string, topic: string, partition: number): string {
    return `${escapeName(group)}-${escapeName(topic)}-${partition}`;
  }

  /** The stream of dead letters of every group. */
  get deadLetterStream(): string {
    return `${this.prefix}_dead_letters`;
  }

  get deadLetterSubjects(): string {
    return `${this.prefix}.dead_letters.>`;
  }

  /** The subject of one group's dead letters from one topic; `undefined` parts are wildcards (for listing). */
  deadLetterSubject(group: string | undefined, topic: string | undefined): string {
    const g = group === undefined ? '*' : escapeName(group);
    const t = topic === undefined ? '*' : escapeName(topic);
    return `${this.prefix}.dead_letters.${g}.${t}`;
  }

  /** The stream holding group state: partition claims and parked keys (one message per subject). */
  get groupStream(): string {
    return `${this.prefix}_groups`;
  }

  get groupSubjects(): string {
    return `${this.prefix}.groups.>`;
  }

  /** Who owns one partition of a topic in a group. */
  claimSubject(group: string, topic: string, partition: number): string {
    return `${this.prefix}.groups.claims.${escapeName(group)}.${escapeName(topic)}.${partition}`;
  }

  /** Every claim of a group (for a subscription that wakes the group's members when one changes). */
  groupClaimsFilter(group: string): string {
    return `${this.prefix}.groups.claims.${escapeName(group)}.>`;
  }

  /** A key of a partition whose records wait behind a record under delayed redelivery. */
  parkSubject(group: string, topic: string, partition: number, key: string): string {
    return `${this.partitionParksFilter(group, topic, partition).slice(0, -2)}.${keyToken(key)}`;
  }

  partitionParksFilter(group: string, topic: string, partition: number): string {
    return `${this.prefix}.groups.parks.${escapeName(group)}.${escapeName(topic)}.${partition}.>`;
  }

  topicParksFilter(group: string, topic: string): string {
    return `${this.prefix}.groups.parks.${escapeName(group)}.${escapeName(topic)}.>`;
  }

  /** Core NATS subject (not stored) where a group's members announce themselves. */
  membersSubject(group: string): string {
    return `${this.prefix}.members.${escapeName(group)}`;
  }
}
