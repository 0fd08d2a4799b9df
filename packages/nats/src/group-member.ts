import { randomUUID } from 'node:crypto';
import { assignPartitions, ErrorCodes, HeraldError, sleep } from '@herald/core';
import type { NatsConnection, Subscription as NatsSub } from '@nats-io/transport-node';
import type { GroupState } from './group-state.ts';
import type { Names } from './names.ts';

/** One partition of one topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What a member does with the partitions it gains and loses. */
export interface MemberHooks {
  /** Start consuming a partition. `dirty`: taken from a member presumed dead (see {@link Claim.dirty}). */
  acquire(tp: TopicPartition, dirty: boolean): void;
  /**
   * Stop consuming a partition gracefully (hand-over or close), within `timeoutMs` for in-flight work. Resolves
   * to `false` when a record may still be in transit to this member (the next owner must wait out the ack wait).
   */
  release(tp: TopicPartition, timeoutMs: number): Promise<boolean>;
  /** Stop at once: another member holds the partition now (this member was presumed dead). */
  lose(tp: TopicPartition): Promise<void>;
  report(error: unknown): void;
}

/** Timing of a member, from the transport options. */
export interface MemberTiming {
  readonly sessionTimeoutMs: number;
  readonly handoverTimeoutMs: number;
}

interface Announcement {
  /** Member id. */
  readonly m: string;
  /** Its topics and their partition counts. */
  readonly t: Record<string, number>;
  readonly op: 'hello' | 'hb' | 'leave';
}

interface Peer {
  readonly topics: Record<string, number>;
  readonly lastSeen: number;
}

interface Owned {
  readonly tp: TopicPartition;
  revision: number;
}

const tpKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** How long a new member listens for the others before computing its share. */
const HELLO_WINDOW_MS = 200;

/**
 * One member of a consumer group: finds the other members, computes the group's assignment of partitions (the
 * core's deterministic `assignPartitions`, so every member computes the same one from the same members), and
 * claims its share.
 *
 * Membership is soft state on core NATS: members announce themselves on the group's subject every third of the
 * session timeout, answer a newcomer's hello at once, and say goodbye on close; a member not heard from for the
 * session timeout (by the observer's own clock, so clocks need not agree) is gone. Ownership is hard state: a
 * partition's claim is a message in the group-state stream, changed only by compare-and-set, so two members
 * never both own a partition. A member gives a partition up (after its in-flight work) when the assignment moves
 * it elsewhere; a claim of a gone member is taken over once it has been silent for the session timeout.
 */
export class GroupMember {
  readonly id: string = randomUUID();
  readonly ready: Promise<void>;
  readonly #nc: NatsConnection;
  readonly #state: GroupState;
  readonly #names: Names;
  readonly #group: string;
  readonly #topics: ReadonlyMap<string, number>;
  readonly #timing: MemberTiming;
  readonly #hooks: MemberHooks;
  readonly #peers = new Map<string, Peer>();
  readonly #owned = new Map<string, Owned>();
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #isReady = false;
  #joinedAt = 0;
  #started = false;
  #closed = false;
  #dirty = false;
  #verifyDue = false;
  #failures = 0;
  #reconciling: Promise<void> | undefined;
  #subscriptions: NatsSub[] = [];
  #timers: NodeJS.Timeout[] = [];
  #answerTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    nc: NatsConnection,
    state: GroupState,
    names: Names,
    group: string,
    topics: ReadonlyMap<string, number>,
    timing: MemberTiming,
    hooks: MemberHooks,
  ) {
    this.#nc = nc;
    this.#state = state;
    this.#names = names;
    this.#group = group;
    this.#topics = topics;
    this.#timing = timing;
    this.#hooks = hooks;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = () => {
        this.#isReady = true;
        resolve();
      };
      this.#rejectReady = reject;
    });
    this.ready.catch(() => undefined);
  }

  /** Partitions this member owns now. */
  get owned(): TopicPartition[] {
    return [...this.#owned.values()].map((o) => o.tp);
  }

  /** Joins: listens to the group, says hello, and claims its share after a short listening window. */
  start(): void {
    this.#joinedAt = Date.now();
    this.#subscriptions.push(
      this.#nc.subscribe(this.#names.membersSubject(this.#group), {
        callback: (error, msg) => {
          if (error === null) this.#onAnnouncement(msg.data);
        },
      }),
      // Any claim change of the group (a partition handed over) is worth a look at once.
      this.#nc.subscribe(this.#names.groupClaimsFilter(this.#group), { callback: () => this.#schedule() }),
    );
    this.#announce('hello');
    const heartbeatMs = Math.max(50, Math.floor(this.#timing.sessionTimeoutMs / 3));
    this.#timers.push(
      setTimeout(
        () => {
          this.#started = true;
          this.#schedule();
        },
        Math.min(HELLO_WINDOW_MS, heartbeatMs),
      ),
      setInterval(() => {
        this.#announce('hb');
        this.#verifyDue = true;
        this.#schedule();
      }, heartbeatMs),
      // A share held by a member that is slow to hand over must not keep the caller waiting without bound.
      setTimeout(
        () => this.#resolveReady(),
        2 * this.#timing.sessionTimeoutMs + this.#timing.handoverTimeoutMs,
      ),
    );
  }

  #announce(op: Announcement['op']): void {
    if (this.#nc.isClosed()) return;
    const announcement: Announcement = { m: this.id, t: Object.fromEntries(this.#topics), op };
    try {
      this.#nc.publish(this.#names.membersSubject(this.#group), encoder.encode(JSON.stringify(announcement)));
    } catch (error) {
      this.#hooks.report(error);
    }
  }

  #onAnnouncement(data: Uint8Array): void {
    let announcement: Announcement;
    try {
      announcement = JSON.parse(decoder.decode(data)) as Announcement;
    } catch {
      return;
    }
    if (typeof announcement.m !== 'string' || announcement.m === this.id || this.#closed) return;
    if (announcement.op === 'leave') {
      this.#peers.delete(announcement.m);
      this.#schedule();
      return;
    }
    const now = Date.now();
    const known = this.#peers.get(announcement.m);
    const wasLive = known !== undefined && now - known.lastSeen < this.#timing.sessionTimeoutMs;
    this.#peers.set(announcement.m, { topics: announcement.t, lastSeen: now });
    if (announcement.op === 'hello' && this.#answerTimer === undefined) {
      // Answer a newcomer at once (once for a burst of them), so it need not wait a heartbeat to know us.
      this.#answerTimer = setTimeout(() => {
        this.#answerTimer = undefined;
        this.#announce('hb');
      }, 5);
    }
    if (!wasLive) this.#schedule();
  }

  #schedule(): void {
    if (!this.#started || this.#closed) return;
    this.#dirty = true;
    this.#reconciling ??= this.#reconcileLoop();
  }

  async #reconcileLoop(): Promise<void> {
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      try {
        await this.#reconcile();
        this.#failures = 0;
      } catch (error) {
        // Once per outage: the next heartbeat tries again anyway.
        if (this.#failures++ === 0) this.#hooks.report(error);
      }
    }
    this.#reconciling = undefined;
  }

  #live(now: number): { memberId: string; topics: string[] }[] {
    const live = [{ memberId: this.id, topics: [...this.#topics.keys()] }];
    for (const [memberId, peer] of this.#peers) {
      if (now - peer.lastSeen < this.#timing.sessionTimeoutMs) {
        live.push({ memberId, topics: Object.keys(peer.topics) });
      } else if (now - peer.lastSeen > 10 * this.#timing.sessionTimeoutMs) {
        this.#peers.delete(memberId);
      }
    }
    return live;
  }

  #partitionsOf(topic: string): number {
    const own = this.#topics.get(topic);
    if (own !== undefined) return own;
    for (const peer of this.#peers.values()) {
      const n = peer.topics[topic];
      if (typeof n === 'number' && Number.isInteger(n) && n > 0) return n;
    }
    return 1;
  }

  async #reconcile(): Promise<void> {
    if (this.#verifyDue) {
      this.#verifyDue = false;
      await this.#verify();
    }
    const now = Date.now();
    const live = this.#live(now);
    const assignment = assignPartitions(live, (topic) => this.#partitionsOf(topic));
    const mine: TopicPartition[] = [];
    for (const [topic, partitions] of this.#topics) {
      for (let partition = 0; partition < partitions; partition++) {
        if (assignment.get(`${topic}\u0000${partition}`) === this.id) mine.push({ topic, partition });
      }
    }
    const mineKeys = new Set(mine.map(tpKey));
    const leaving = [...this.#owned.values()].filter((o) => !mineKeys.has(tpKey(o.tp)));
    await Promise.all(leaving.map((o) => this.#release(o, this.#timing.handoverTimeoutMs)));
    const liveIds = new Set(live.map((m) => m.memberId));
    await Promise.all(
      mine.filter((tp) => !this.#owned.has(tpKey(tp))).map((tp) => this.#acquire(tp, liveIds, now)),
    );
    if (!this.#isReady && mine.every((tp) => this.#owned.has(tpKey(tp)))) this.#resolveReady();
  }

  #stealable(owner: string, liveIds: ReadonlySet<string>, now: number): boolean {
    if (liveIds.has(owner)) return false;
    const lastSeen = this.#peers.get(owner)?.lastSeen ?? this.#joinedAt;
    return now - lastSeen >= this.#timing.sessionTimeoutMs;
  }

  async #acquire(tp: TopicPartition, liveIds: ReadonlySet<string>, now: number): Promise<void> {
    if (this.#closed) return;
    const claim = await this.#state.readClaim(this.#group, tp.topic, tp.partition);
    let dirty: boolean;
    if (claim === undefined || claim.member === null) dirty = claim?.dirty ?? false;
    else if (claim.member === this.id)
      dirty = true; // A release of ours whose write did not get through: what it handed back is unknown.
    else if (this.#stealable(claim.member, liveIds, now)) dirty = true;
    else return; // Its owner hands it over when it sees the new assignment (the claim change wakes us).
    const revision = await this.#state.writeClaim(
      this.#group,
      tp.topic,
      tp.partition,
      { member: this.id, dirty: false },
      claim?.revision ?? 0,
    );
    if (revision === undefined) return; // Another member was faster; its write wakes us to look again.
    if (this.#closed) {
      await this.#state.writeClaim(this.#group, tp.topic, tp.partition, { member: null, dirty }, revision);
      return;
    }
    this.#owned.set(tpKey(tp), { tp, revision });
    this.#hooks.acquire(tp, dirty);
  }

  async #release(owned: Owned, timeoutMs: number): Promise<void> {
    this.#owned.delete(tpKey(owned.tp));
    let clean = false;
    try {
      clean = await this.#hooks.release(owned.tp, timeoutMs);
    } catch (error) {
      this.#hooks.report(error);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#state.writeClaim(
          this.#group,
          owned.tp.topic,
          owned.tp.partition,
          { member: null, dirty: !clean },
          owned.revision,
        );
        return;
      } catch (error) {
        if (attempt >= 5 || this.#nc.isClosed()) {
          // Left claimed: the others take it over once this member is gone for the session timeout.
          this.#hooks.report(error);
          return;
        }
        await sleep(200 * attempt);
      }
    }
  }

  /** Checks that the claims this member holds are still its own (it may have been presumed dead). */
  async #verify(): Promise<void> {
    await Promise.all(
      [...this.#owned.values()].map(async (owned) => {
        const claim = await this.#state.readClaim(this.#group, owned.tp.topic, owned.tp.partition);
        if (claim?.member === this.id) {
          owned.revision = claim.revision;
          return;
        }
        this.#owned.delete(tpKey(owned.tp));
        await this.#hooks.lose(owned.tp);
      }),
    );
  }

  /** Hands every partition back (within `timeoutMs` for in-flight work) and leaves the group. */
  close(timeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    clearTimeout(this.#answerTimer);
    await this.#reconciling;
    await Promise.all([...this.#owned.values()].map((o) => this.#release(o, timeoutMs)));
    this.#announce('leave');
    for (const subscription of this.#subscriptions) {
      if (!subscription.isClosed()) subscription.unsubscribe();
    }
    this.#rejectReady(new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready'));
  }
}
