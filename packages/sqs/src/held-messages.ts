import type { Message } from '@aws-sdk/client-sqs';
import type { Lease } from '@herald/core';
import { MAX_VISIBILITY_SECONDS, type QueueOps, type ReleasedReceives } from './queue-ops.ts';
import { isStaleReceipt, toHeraldError } from './sqs-errors.ts';
import type { GroupQueues } from './topology.ts';

/** A received message this member holds (invisible to the others) until it is settled or handed back. */
export interface Held {
  readonly queues: GroupQueues;
  readonly message: Message;
  readonly messageId: string;
  readonly receipt: string;
  /** The executor lane: the FIFO message group (what SQS orders by), else the record's key. */
  readonly lane: string | undefined;
  readonly receivedAt: number;
  state: 'queued' | 'running' | 'settled' | 'released';
  /** A heartbeat under way for this message: visibility changes wait for it, so they land in order. */
  heartbeat: Promise<void> | undefined;
  /** Its delivery's `signal`: lost once the message may be visible to the others again. */
  readonly lease: Lease;
  /** When its visibility runs out unless a heartbeat extends it (ms since the epoch, as this process reckons). */
  leaseUntil: number;
}

/** What {@link HeldMessages} works with, from the transport. */
export interface HeldContext {
  readonly ops: QueueOps;
  readonly released: ReleasedReceives;
  readonly visibilityTimeoutSeconds: number;
  readonly onError: (error: unknown) => void;
}

/**
 * The messages one group member holds, in receive order: it keeps them invisible to the other members (the
 * heartbeat extends their visibility), and hands them back (visibility 0) when they are not to be run here.
 */
export class HeldMessages {
  readonly #context: HeldContext;
  /** Held messages by receipt handle, in receive order. */
  readonly #held = new Map<string, Held>();
  /** Hand-backs under way: a close waits for them. */
  readonly #handbacks = new Set<Promise<void>>();
  #roomWaiters: (() => void)[] = [];

  constructor(context: HeldContext) {
    this.#context = context;
  }

  /** How many messages are held. */
  get size(): number {
    return this.#held.size;
  }

  /** Holds a message just received. */
  add(held: Held): void {
    this.#held.set(held.receipt, held);
  }

  /** The held messages in `state`, in receive order. */
  inState(state: Held['state']): Held[] {
    return [...this.#held.values()].filter((h) => h.state === state);
  }

  /** Resolves when a message is no longer held (or {@link wakeAll} is called). */
  room(): Promise<void> {
    return new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Ends every {@link room} wait (at shutdown). */
  wakeAll(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The message is no longer held (settled or handed back). */
  forget(held: Held): void {
    if (this.#held.get(held.receipt) !== held) return;
    this.#held.delete(held.receipt);
    this.wakeAll();
  }

  /**
   * SQS may return several messages of a FIFO group in one receive. When the first is retried, the ones behind
   * it that have not started go back at once: the retried one keeps the group locked (it is in flight, invisible)
   * so they cannot overtake it, and holding them would keep the group locked after it becomes visible again.
   */
  releaseFollowers(head: Held): void {
    if (head.lane === undefined) return;
    const followers = [...this.#held.values()].filter(
      (h) => h !== head && h.state === 'queued' && h.queues === head.queues && h.lane === head.lane,
    );
    if (followers.length > 0) this.release(followers, false);
  }

  /**
   * Hands messages back to the queue (visibility 0), last received first, so a FIFO group's messages line up again
   * in their order. `handled` says whether a handler ran (then the receive counts as an attempt).
   */
  release(list: Held[], handled: boolean): void {
    const { ops, released, onError } = this.#context;
    for (const held of [...list].reverse()) {
      held.state = 'released';
      held.lease.lose(`${held.messageId} (handed back to the queue)`);
      this.forget(held);
      if (!handled) released.add(held.messageId);
      const { url, name } = held.queues.queue;
      // Queued at once (after a heartbeat under way for it), so a close that drains the batches sends it.
      const change =
        held.heartbeat === undefined
          ? ops.changeVisibility(url, held.receipt, 0)
          : held.heartbeat.catch(() => undefined).then(() => ops.changeVisibility(url, held.receipt, 0));
      const tracked = change.catch((error: unknown) => {
        // A stale receipt: its visibility ran out already, so it is back in the queue anyway.
        if (!isStaleReceipt(error)) onError(toHeraldError(error, `handing back a message of "${name}"`));
      });
      this.#handbacks.add(tracked);
      void tracked.finally(() => this.#handbacks.delete(tracked));
    }
  }

  /** Resolves when every hand-back under way has been sent (or failed). */
  async handedBack(): Promise<void> {
    await Promise.all([...this.#handbacks]);
  }

  /**
   * Extends the visibility of every held message, so none reappears to another member while this one holds it.
   * A message whose visibility ran out before an extension got through (heartbeats failing, AWS's 12-hour cap)
   * or whose receipt SQS no longer takes has lost its lease: another member may receive it.
   */
  beat(): void {
    const { ops, visibilityTimeoutSeconds, onError } = this.#context;
    const now = Date.now();
    for (const held of this.#held.values()) {
      if (held.state !== 'queued' && held.state !== 'running') continue;
      if (now >= held.leaseUntil) held.lease.lose(`${held.messageId} (its visibility ran out)`);
      if (held.lease.lost || held.heartbeat !== undefined) continue;
      const left = MAX_VISIBILITY_SECONDS - Math.ceil((now - held.receivedAt) / 1000) - 1;
      if (left <= 0) continue; // At AWS's 12-hour cap: it cannot be held longer.
      const seconds = Math.min(visibilityTimeoutSeconds, left);
      held.heartbeat = ops
        .changeVisibility(held.queues.queue.url, held.receipt, seconds)
        .then(() => {
          held.leaseUntil = Math.max(held.leaseUntil, now + seconds * 1000);
        })
        .catch((error: unknown) => {
          if (isStaleReceipt(error)) held.lease.lose(`${held.messageId} (SQS no longer takes its receipt)`);
          onError(
            toHeraldError(
              error,
              isStaleReceipt(error)
                ? `extending the visibility of ${held.messageId}: it ran out, another member may receive it`
                : `extending the visibility of ${held.messageId}`,
            ),
          );
        })
        .finally(() => {
          held.heartbeat = undefined;
        });
    }
  }
}
