import {
  assignPartitions,
  type Assignment,
  type MemberInfo,
  type OwnedPartition,
  type TopicPartition,
} from '@herald/core';
import type { SqliteDatabase } from './sqlite-schema.ts';
import type { TopicCatalog } from './sqlite-topics.ts';

interface OwnershipRow {
  readonly topic: string;
  readonly part: number;
  owner: string | null;
  released: number;
  generation: number;
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Consumer groups in the log database: members with leases, partition ownership with generations, and committed
 * positions. Every change runs in a `BEGIN IMMEDIATE` transaction, so processes that heartbeat at once see one
 * another's writes in turn.
 *
 * Assignment is core's deterministic `assignPartitions` over the live members. A partition changes hands in two
 * steps, so two members never read it at once: a live owner gives it up at its own heartbeat (it keeps the right
 * to commit what it finishes meanwhile), and the new owner takes it at a later heartbeat, under a new
 * generation. A member that left or whose lease expired gives its partitions up at once.
 */
export class GroupCoordinator {
  readonly #topics: TopicCatalog;
  readonly #sessionTimeoutMs: number;
  readonly #upsertMember;
  readonly #deleteExpired;
  readonly #selectMembers;
  readonly #selectOwnership;
  readonly #insertOwnership;
  readonly #updateOwnership;
  readonly #deleteMember;
  readonly #disown;
  readonly #commit;
  readonly #committed;
  readonly #setPosition;
  readonly #heartbeatTx;
  readonly #leaveTx;

  constructor(db: SqliteDatabase, topics: TopicCatalog, sessionTimeoutMs: number) {
    this.#topics = topics;
    this.#sessionTimeoutMs = sessionTimeoutMs;
    this.#upsertMember = db.prepare<[string, string, string, number]>(
      `INSERT INTO members (grp, member, topics, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (grp, member) DO UPDATE SET topics = excluded.topics, expires_at = excluded.expires_at`,
    );
    this.#deleteExpired = db.prepare<[string, number]>(
      'DELETE FROM members WHERE grp = ? AND expires_at <= ?',
    );
    this.#selectMembers = db.prepare<[string], { member: string; topics: string }>(
      'SELECT member, topics FROM members WHERE grp = ?',
    );
    this.#selectOwnership = db.prepare<[string], OwnershipRow>(
      'SELECT topic, part, owner, released, generation FROM group_partitions WHERE grp = ?',
    );
    this.#insertOwnership = db.prepare<[string, string, number, string]>(
      'INSERT INTO group_partitions (grp, topic, part, owner, generation) VALUES (?, ?, ?, ?, 1)',
    );
    this.#updateOwnership = db.prepare<[string | null, number, number, string, string, number]>(
      'UPDATE group_partitions SET owner = ?, released = ?, generation = ? WHERE grp = ? AND topic = ? AND part = ?',
    );
    this.#deleteMember = db.prepare<[string, string]>('DELETE FROM members WHERE grp = ? AND member = ?');
    this.#disown = db.prepare<[string, string]>(
      'UPDATE group_partitions SET owner = NULL, released = 0 WHERE grp = ? AND owner = ?',
    );
    this.#commit = db.prepare<[number, string, string, number, string, number]>(
      `UPDATE group_partitions SET committed = ?
       WHERE grp = ? AND topic = ? AND part = ? AND owner = ? AND generation = ?`,
    );
    this.#committed = db
      .prepare<[string, string, number], number | null>(
        'SELECT committed FROM group_partitions WHERE grp = ? AND topic = ? AND part = ?',
      )
      .pluck();
    this.#setPosition = db.prepare<[string, string, number, number]>(
      `INSERT INTO group_partitions (grp, topic, part, committed, generation) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (grp, topic, part) DO UPDATE SET committed = excluded.committed, generation = generation + 1`,
    );
    this.#heartbeatTx = db.transaction((member: MemberInfo) => this.#heartbeat(member));
    this.#leaveTx = db.transaction((member: MemberInfo) => {
      this.#deleteMember.run(member.group, member.memberId);
      this.#disown.run(member.group, member.memberId);
    });
  }

  /**
   * Refreshes the member's lease, drops expired members, moves partitions toward the deterministic assignment,
   * and returns the partitions this member owns now, each with its ownership generation.
   */
  heartbeat(member: MemberInfo): Assignment {
    // Topics are created before the transaction, so this process can cache them (see TopicCatalog).
    for (const topic of member.topics) this.#topics.ensure(topic);
    return this.#heartbeatTx.immediate(member);
  }

  #heartbeat(member: MemberInfo): Assignment {
    const { group, memberId } = member;
    const now = Date.now();
    this.#upsertMember.run(group, memberId, JSON.stringify(member.topics), now + this.#sessionTimeoutMs);
    this.#deleteExpired.run(group, now);
    const members = this.#selectMembers
      .all(group)
      .map((row) => ({ memberId: row.member, topics: JSON.parse(row.topics) as string[] }));
    const live = new Set(members.map((m) => m.memberId));
    const target = assignPartitions(members, (topic) => this.#topics.ensure(topic).partitionIds.length);
    const rows = new Map(this.#selectOwnership.all(group).map((row) => [tpKey(row.topic, row.part), row]));
    const mine: OwnedPartition[] = [];
    for (const [key, owner] of target) {
      let row = rows.get(key);
      if (row === undefined) {
        const [topic, part] = key.split('\u0000') as [string, string];
        row = { topic, part: Number(part), owner, released: 0, generation: 1 };
        this.#insertOwnership.run(group, topic, row.part, owner);
      } else if (
        row.owner === owner ? row.released === 1 : row.released === 1 || !live.has(row.owner ?? '')
      ) {
        // Free (never owned, owner gone, or given up), or given up and now assigned back: a new generation.
        this.#setOwner(group, row, owner, 0, row.generation + 1);
      } else if (row.owner === memberId && owner !== memberId) {
        // Give it up; keep the generation so commits of records finishing now still count.
        this.#setOwner(group, row, memberId, 1, row.generation);
      }
      // Otherwise a live member still owns it: the new owner waits until that member gives it up.
      if (row.owner === memberId && row.released === 0) {
        mine.push({ topic: row.topic, partition: row.part, generation: row.generation });
      }
    }
    mine.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    return { partitions: mine };
  }

  #setOwner(group: string, row: OwnershipRow, owner: string, released: number, generation: number): void {
    row.owner = owner;
    row.released = released;
    row.generation = generation;
    this.#updateOwnership.run(owner, released, generation, group, row.topic, row.part);
  }

  /** Removes the member at once; the others take its partitions at their next heartbeat. */
  leave(member: MemberInfo): void {
    this.#leaveTx.immediate(member);
  }

  /** Moves the group's position if the member still owns the partition under `tp.generation`. */
  commit(member: MemberInfo, tp: OwnedPartition, offset: bigint): boolean {
    return (
      this.#commit.run(Number(offset), member.group, tp.topic, tp.partition, member.memberId, tp.generation)
        .changes === 1
    );
  }

  /** The group's committed position in the partition, if any. */
  committed(group: string, tp: TopicPartition): bigint | undefined {
    const offset = this.#committed.get(group, tp.topic, tp.partition);
    return offset === undefined || offset === null ? undefined : BigInt(offset);
  }

  /**
   * Sets the group's position in a partition (a seek) and changes the partition's generation, so its owner's
   * commits are refused until its next heartbeat hands it the partition again and it re-reads the position.
   * Call inside a transaction to move several partitions at once.
   */
  setPosition(group: string, tp: TopicPartition, offset: number): void {
    this.#setPosition.run(group, tp.topic, tp.partition, offset);
  }
}
