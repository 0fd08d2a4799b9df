import { setMaxListeners } from 'node:events';
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import {
  ErrorCodes,
  HeraldError,
  KeyedExecutor,
  type CloseOptions,
  type DeadLetterFailure,
  type Delivery,
  type ErrorInfo,
  type SubscribeOptions,
  type TransportRecord,
} from '@herald/core';
import type { SqsDeadLetters } from './dead-letters.ts';
import { decodeMessage } from './message-binding.ts';
import { MAX_VISIBILITY_SECONDS, type QueueOps, type ReleasedReceives } from './queue-ops.ts';
import { isNotFound, isStaleReceipt, toHeraldError } from './sqs-errors.ts';
import type { ResolvedSqsOptions } from './sqs-options.ts';
import type { GroupQueues, Topology } from './topology.ts';

/** What a {@link GroupConsumer} works with, from the transport. */
export interface ConsumerContext {
  readonly sqs: SQSClient;
  readonly topology: Topology;
  readonly options: ResolvedSqsOptions;
  readonly ops: QueueOps;
  readonly deadLetters: SqsDeadLetters;
  readonly released: ReleasedReceives;
  readonly onError: (error: unknown) => void;
}

/** A received message this member holds (invisible to the others) until it is settled or handed back. */
interface Held {
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
}

const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'MessageGroupId',
  'SequenceNumber',
  'SentTimestamp',
] as const;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One member of a consumer group on SQS: long-polls the group's queue on each topic, holding at most `prefetch`
 * messages, and runs them through core's {@link KeyedExecutor}: in order per key, in parallel across keys up to
 * the subscription's `concurrency`. Competing members are simply several receivers of the same queue: SQS gives
 * each message to one of them, and on a FIFO queue gives a message group to one receiver at a time.
 *
 * While a message is held its visibility is extended every third of the visibility timeout (the heartbeat), so
 * a long handler keeps it; a member that dies stops extending and SQS hands its messages to the others when their
 * visibility runs out. `retryLater` sets the visibility to the delay: on a FIFO queue the message's group stays
 * locked meanwhile, so later messages of the key wait behind it while other keys flow.
 */
export class GroupConsumer {
  readonly ready: Promise<void>;
  /** Settles when every receive loop has ended. */
  readonly finished: Promise<void>;
  readonly #context: ConsumerContext;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #executor: KeyedExecutor;
  readonly #prefetch: number;
  /** Held messages by receipt handle, in receive order. */
  readonly #held = new Map<string, Held>();
  readonly #loops: Promise<void>[] = [];
  /** Hand-backs under way: a close waits for them. */
  readonly #handbacks = new Set<Promise<void>>();
  /** Aborts receives still waiting (when the transport closes). */
  readonly #abort = new AbortController();
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #resolveFinished!: () => void;
  #roomWaiters: (() => void)[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopping = false;
  #abandoned = false;
  #closing: Promise<void> | undefined;

  constructor(
    context: ConsumerContext,
    options: SubscribeOptions,
    onDelivery: (delivery: Delivery) => Promise<void>,
  ) {
    this.#context = context;
    this.#options = options;
    this.#onDelivery = onDelivery;
    this.#executor = new KeyedExecutor(options.concurrency, {
      // `prefetch` bounds what is held, so submitting never has to wait.
      maxPending: Number.MAX_SAFE_INTEGER,
      onError: (error) => context.onError(error),
    });
    this.#prefetch = context.options.prefetch ?? Math.max(10, 2 * options.concurrency);
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A caller that never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    setMaxListeners(options.topics.length + 10, this.#abort.signal);
  }

  get #group(): string {
    return this.#options.group;
  }

  get #fifo(): boolean {
    return this.#context.options.fifo;
  }

  /** Finds (or provisions) the group's queues, then starts receiving and the heartbeat. */
  start(attempt = 0): void {
    const topics = [...new Set(this.#options.topics)];
    Promise.all(topics.map((topic) => this.#context.topology.groupQueues(topic, this.#group))).then(
      (queues) => {
        if (this.#stopping) return;
        this.#resolveReady();
        for (const q of queues) this.#loops.push(this.#loop(q));
        void Promise.all(this.#loops).then(() => this.#resolveFinished());
        const everyMs = Math.max(1000, (this.#context.options.visibilityTimeoutSeconds * 1000) / 3);
        this.#heartbeat = setInterval(() => this.#beat(), everyMs);
      },
      (error: unknown) => {
        const failure = toHeraldError(error, `setting up group "${this.#group}"`, true);
        this.#rejectReady(failure);
        if (this.#stopping || failure.permanent) {
          this.#resolveFinished();
          return;
        }
        this.#context.onError(failure);
        this.#retry = setTimeout(() => this.start(attempt + 1), Math.min(30_000, 500 * 2 ** attempt));
      },
    );
  }

  async #loop(initial: GroupQueues): Promise<void> {
    const { sqs, options, topology } = this.#context;
    const { signal } = this.#abort;
    let queues = initial;
    let failures = 0;
    while (!this.#stopping && !signal.aborted) {
      const room = this.#prefetch - this.#held.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
        continue;
      }
      let messages: Message[];
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queues.queue.url,
            MaxNumberOfMessages: Math.min(10, room),
            WaitTimeSeconds: options.waitTimeSeconds,
            VisibilityTimeout: options.visibilityTimeoutSeconds,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
          }),
          { abortSignal: signal },
        );
        messages = answer.Messages ?? [];
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        this.#context.onError(toHeraldError(error, `receiving from "${queues.queue.name}"`));
        await sleep(Math.min(30_000, 200 * 2 ** failures), signal);
        if (isNotFound(error) && !this.#stopping) {
          // The queue was deleted under us: find (or provision) it again.
          topology.forgetGroup(queues.topic, this.#group);
          try {
            queues = await topology.groupQueues(queues.topic, this.#group);
          } catch (setupError) {
            this.#context.onError(setupError);
          }
        }
        continue;
      }
      const receivedAt = Date.now();
      for (const message of messages) this.#accept(queues, message, receivedAt);
    }
  }

  #accept(queues: GroupQueues, message: Message, receivedAt: number): void {
    const receipt = message.ReceiptHandle;
    if (receipt === undefined) return;
    const record = decodeMessage(queues.topic, message);
    const held: Held = {
      queues,
      message,
      messageId: message.MessageId ?? receipt,
      receipt,
      lane: this.#fifo ? (message.Attributes?.MessageGroupId ?? record.key) : record.key,
      receivedAt,
      state: 'queued',
      heartbeat: undefined,
    };
    this.#held.set(receipt, held);
    if (this.#stopping) {
      // Received by a poll that was under way at shutdown: straight back to the queue.
      this.#release([held], false);
      return;
    }
    void this.#executor.submit(held.lane, () => this.#run(held, record));
  }

  async #run(held: Held, record: TransportRecord): Promise<void> {
    // Handed back meanwhile (behind a retried message of its key, or at shutdown).
    if (held.state !== 'queued') return;
    held.state = 'running';
    try {
      await this.#onDelivery(this.#delivery(held, record));
    } catch (error) {
      this.#context.onError(error);
    }
    if (held.state === 'running' && !this.#abandoned) {
      // Returned without settling: hand the message back now rather than keep it invisible.
      this.#release([held], true);
    }
  }

  #delivery(held: Held, record: TransportRecord): Delivery {
    const { ops, released, deadLetters } = this.#context;
    const { queues, message } = held;
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
    const attempt = Math.max(
      1,
      (Number.isFinite(receiveCount) ? receiveCount : 1) - released.count(held.messageId),
    );
    const offset = message.Attributes?.SequenceNumber ?? message.Attributes?.SentTimestamp ?? '0';
    let settled = false;
    const settle = async (what: string, action: () => Promise<void>): Promise<void> => {
      if (settled) {
        throw new HeraldError(
          ErrorCodes.TRANSPORT,
          `Delivery ${held.messageId} on "${queues.queue.name}" settled twice`,
        );
      }
      settled = true;
      // Abandoned at shutdown: it was handed back to the queue already.
      if (held.state === 'released') return;
      held.state = 'settled';
      try {
        await held.heartbeat?.catch(() => undefined);
        await action();
      } catch (error) {
        throw toHeraldError(error, what);
      } finally {
        this.#forget(held);
      }
    };
    return {
      record,
      group: this.#group,
      partition: 0,
      offset,
      attempt,
      ack: () =>
        settle('acknowledging', async () => {
          await ops.delete(queues.queue.url, held.receipt);
          released.forget(held.messageId);
        }),
      retryLater: (delayMs: number, _error: ErrorInfo) =>
        settle('scheduling a redelivery', async () => {
          if (this.#fifo) this.#releaseFollowers(held);
          // AWS caps visibility at 12 hours from the receive: a longer delay comes back at the cap.
          const elapsed = Math.ceil((Date.now() - held.receivedAt) / 1000);
          const seconds = Math.min(
            Math.ceil(Math.max(0, delayMs) / 1000),
            MAX_VISIBILITY_SECONDS - elapsed - 1,
          );
          await ops.changeVisibility(queues.queue.url, held.receipt, Math.max(0, seconds));
        }),
      deadLetter: (failure: DeadLetterFailure) =>
        settle('dead-lettering', async () => {
          await deadLetters.send(message, failure, { queues, partition: 0, offset });
          await ops.delete(queues.queue.url, held.receipt);
          released.forget(held.messageId);
        }),
    };
  }

  /**
   * SQS may return several messages of a FIFO group in one receive. When the first is retried, the ones behind
   * it that have not started go back at once: the retried one keeps the group locked (it is in flight, invisible)
   * so they cannot overtake it, and holding them would keep the group locked after it becomes visible again.
   */
  #releaseFollowers(head: Held): void {
    if (head.lane === undefined) return;
    const followers = [...this.#held.values()].filter(
      (h) => h !== head && h.state === 'queued' && h.queues === head.queues && h.lane === head.lane,
    );
    if (followers.length > 0) this.#release(followers, false);
  }

  /**
   * Hands messages back to the queue (visibility 0), last received first, so a FIFO group's messages line up again
   * in their order. `handled` says whether a handler ran (then the receive counts as an attempt).
   */
  #release(list: Held[], handled: boolean): void {
    const { ops, released, onError } = this.#context;
    for (const held of [...list].reverse()) {
      held.state = 'released';
      this.#forget(held);
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

  #forget(held: Held): void {
    if (this.#held.get(held.receipt) !== held) return;
    this.#held.delete(held.receipt);
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Extends the visibility of every held message, so none reappears to another member while this one holds it. */
  #beat(): void {
    const { ops, options, onError } = this.#context;
    const now = Date.now();
    for (const held of this.#held.values()) {
      if ((held.state !== 'queued' && held.state !== 'running') || held.heartbeat !== undefined) continue;
      const left = MAX_VISIBILITY_SECONDS - Math.ceil((now - held.receivedAt) / 1000) - 1;
      if (left <= 0) continue; // At AWS's 12-hour cap: it cannot be held longer.
      held.heartbeat = ops
        .changeVisibility(
          held.queues.queue.url,
          held.receipt,
          Math.min(options.visibilityTimeoutSeconds, left),
        )
        .catch((error: unknown) => {
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

  /**
   * Aborts the receives still waiting for messages. Only for the transport's close: whatever such a receive was
   * about to return stays invisible for the visibility timeout, so {@link close} lets them finish instead.
   */
  abortReceives(): void {
    this.#abort.abort();
  }

  /**
   * Stops receiving, hands back at once what has not started, waits up to `timeoutMs` for running deliveries to
   * settle, then hands back the rest: the group's other members (or the next to join) receive it at once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retry);
    for (const wake of this.#roomWaiters.splice(0)) wake();
    this.#release(
      [...this.#held.values()].filter((h) => h.state === 'queued'),
      false,
    );
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.#executor.idle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!drained) {
      this.#abandoned = true;
      this.#release(
        [...this.#held.values()].filter((h) => h.state === 'running'),
        true,
      );
    }
    clearInterval(this.#heartbeat);
    await Promise.all([...this.#handbacks]);
    await this.#context.ops.drain();
    this.#rejectReady(new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready'));
    if (this.#loops.length === 0) this.#resolveFinished();
  }
}
