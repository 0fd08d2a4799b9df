import type { ErrorInfo } from '../errors.ts';
import type {
  DeadLetter,
  DeadLetterFailure,
  DeadLetterQuery,
  PublishReceipt,
  ReplayOptions,
  SeekTarget,
  TransportRecord,
} from '../transport.ts';

/** A record as stored in a partition of a log. */
export interface StoredRecord extends TransportRecord {
  readonly partition: number;
  readonly offset: bigint;
  /** Append time, ms since the epoch. */
  readonly timestamp: number;
}

/** One (topic, partition) pair. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A member of a consumer group, as the store knows it. */
export interface MemberInfo {
  readonly group: string;
  /** Unique per subscription (process + subscription). */
  readonly memberId: string;
  readonly topics: readonly string[];
}

/**
 * A partition a member owns, with the generation of that ownership: the generation changes whenever the
 * partition changes hands or the group's position in it is moved (`seek`). A commit made with another
 * generation is refused, so a member that lost a partition cannot move its offset, and a member whose partition
 * was seeked re-reads its position.
 */
export interface OwnedPartition extends TopicPartition {
  readonly generation: number;
}

/** The partitions a member owns. */
export interface Assignment {
  readonly partitions: readonly OwnedPartition[];
}

/** What {@link LogStore.releaseDue} did. */
export interface ReleaseResult {
  readonly released: number;
  /** Due time (ms since the epoch) of the earliest record still held, if any. */
  readonly nextDue: number | undefined;
}

/** A record parked for delayed redelivery to one group. */
export interface ParkedRecord {
  /** Store-assigned, increasing in park order. */
  readonly parkId: bigint;
  readonly group: string;
  readonly record: StoredRecord;
  /** The attempt the next delivery will carry. */
  readonly attempt: number;
  /** Not to be delivered before this time (ms since the epoch). */
  readonly dueAt: number;
}

/**
 * The storage under a log transport (memory, SQLite): partitioned topics, group offsets, membership with leases,
 * parked records and dead letters. The generic log engine (`logTransport`) does the consuming on top of it:
 * fetch loops, order per key, parallelism across keys, offset tracking and commits. A store only stores, and
 * must be safe for every process that opens it.
 */
export interface LogStore {
  readonly name: string;
  readonly persistent: boolean;
  readonly crossProcess: boolean;
  /** How long a member keeps its partitions without a heartbeat. The engine heartbeats at a third of it. */
  readonly sessionTimeoutMs: number;

  /**
   * Appends records atomically, in order; a key maps to a fixed partition of its topic. A record whose `deliverat`
   * attribute lies in the future (see `scheduled-delivery.ts`) is not appended but held, in the same transaction,
   * until {@link releaseDue} appends it at its due time; its receipt has offset `-1`, `deliverAt`, and the
   * partition its key maps to (-1 for a keyless record, whose partition is chosen when it is released).
   */
  append(records: readonly TransportRecord[]): Promise<PublishReceipt[]>;
  /**
   * Appends up to `limit` held records due at or before `now`, earliest due first (then in hold order), removing
   * them from the held ones in the same transaction: each is appended exactly once, whichever process sharing the
   * store releases it. Resolves with how many were released and the due time of the earliest record still held.
   */
  releaseDue(now: number, limit: number): Promise<ReleaseResult>;
  /** Records of one partition from `fromOffset` (inclusive), at most `limit`, in offset order. */
  read(topic: string, partition: number, fromOffset: bigint, limit: number): Promise<StoredRecord[]>;
  /** The offset the next append to the partition will get. */
  endOffset(topic: string, partition: number): Promise<bigint>;
  /** The first offset whose record was appended at or after `time` (the end offset if none). */
  offsetForTime(topic: string, partition: number, time: Date): Promise<bigint>;

  /** The next offset the group will read in the partition, if it ever committed one. */
  committed(group: string, tp: TopicPartition): Promise<bigint | undefined>;
  /**
   * Moves the group's position in the partition to `offset` (the next to read). Returns false (and changes
   * nothing) when the member does not own the partition under `tp.generation`.
   */
  commit(member: MemberInfo, tp: OwnedPartition, offset: bigint): Promise<boolean>;

  /**
   * Joins or refreshes membership (a heartbeat) and returns this member's partitions. Members of one group
   * share the partitions of the topics they subscribe; a member whose lease expired loses its partitions to
   * the others. Creates missing topics.
   */
  heartbeat(member: MemberInfo): Promise<Assignment>;
  /** Leaves the group at once, handing its partitions to the others. */
  leave(member: MemberInfo): Promise<void>;

  /** Parks a record of the group for redelivery at `dueAt` with `attempt`. */
  park(group: string, record: StoredRecord, attempt: number, dueAt: number, error?: ErrorInfo): Promise<void>;
  /** Parked records of the group in the given partitions, oldest park first. */
  parked(group: string, partitions: readonly TopicPartition[]): Promise<ParkedRecord[]>;
  /**
   * Sets a parked record's next attempt and due time, keeping its place in park order (so same-key records
   * parked behind it stay behind it).
   */
  reschedule(parkId: bigint, attempt: number, dueAt: number, error?: ErrorInfo): Promise<void>;
  /** Removes a parked record (it was delivered and settled). */
  unpark(parkId: bigint): Promise<void>;

  /** Stores a record in the group's dead-letter queue. */
  deadLetter(group: string, record: StoredRecord, failure: DeadLetterFailure): Promise<void>;
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]>;
  getDeadLetter(id: string): Promise<DeadLetter | undefined>;
  /**
   * Removes the dead letter and parks its record for its group, due now, attempt 1 (optionally new data).
   * Rejects with `HERALD_DEAD_LETTER_NOT_FOUND` for an unknown id, as `discardDeadLetter` does.
   */
  replayDeadLetter(id: string, options?: ReplayOptions): Promise<void>;
  discardDeadLetter(id: string): Promise<void>;

  /**
   * Moves the group's committed position on every partition of the topic, and changes the generation of those
   * partitions so their owners re-read the position at their next heartbeat.
   */
  seek(group: string, topic: string, target: SeekTarget): Promise<void>;

  /**
   * Calls `listener` soon after records are appended or parked by any process sharing the store (a hint: the
   * engine also polls). Returns a function that removes the listener.
   */
  watch(listener: () => void): () => void;

  close(): Promise<void>;
}
