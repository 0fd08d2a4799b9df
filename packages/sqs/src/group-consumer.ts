import { setMaxListeners } from 'node:events';
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import {
  CloseOnce,
  KeyedExecutor,
  Lease,
  Readiness,
  settleOnce,
  settlesWithin,
  type CloseOptions,
  type DeadLetterFailure,
  type Delivery,
  type SubscribeOptions,
  type TransportRecord,
} from '@herald/core';
import type { SqsDeadLetters } from './dead-letters.ts';
import { decodeMessage } from './message-binding.ts';
import { HeldMessages, type Held } from './held-messages.ts';
import {
  MAX_VISIBILITY_SECONDS,
  RECEIVE_SYSTEM_ATTRIBUTES,
  type QueueOps,
  type ReleasedReceives,
} from './queue-ops.ts';
import { isNotFound, toHeraldError } from './sqs-errors.ts';
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

/** What a failed settle was doing, for its error. */
const SETTLE_ACTIONS = {
  ack: 'acknowledging',
  retryLater: 'scheduling a redelivery',
  deadLetter: 'dead-lettering',
} as const;

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
  /** Settles when every receive loop has ended. */
  readonly finished: Promise<void>;
  readonly #context: ConsumerContext;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #executor: KeyedExecutor;
  readonly #prefetch: number;
  readonly #held: HeldMessages;
  readonly #readiness = new Readiness();
  readonly #closer = new CloseOnce();
  readonly #loops: Promise<void>[] = [];
  /** Aborts receives still waiting (when the transport closes). */
  readonly #abort = new AbortController();
  #resolveFinished!: () => void;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopping = false;
  #abandoned = false;

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
    this.#held = new HeldMessages({
      ops: context.ops,
      released: context.released,
      visibilityTimeoutSeconds: context.options.visibilityTimeoutSeconds,
      onError: (error) => context.onError(error),
    });
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    setMaxListeners(options.topics.length + 10, this.#abort.signal);
  }

  /** Resolves once the group's queues are found (or provisioned) and the member receives from them. */
  get ready(): Promise<void> {
    return this.#readiness.promise;
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
        this.#readiness.resolve();
        for (const q of queues) this.#loops.push(this.#loop(q));
        void Promise.all(this.#loops).then(() => this.#resolveFinished());
        const everyMs = Math.max(1000, (this.#context.options.visibilityTimeoutSeconds * 1000) / 3);
        this.#heartbeat = setInterval(() => this.#held.beat(), everyMs);
      },
      (error: unknown) => {
        const failure = toHeraldError(error, `setting up group "${this.#group}"`, true);
        this.#readiness.reject(failure);
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
        await this.#held.room();
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
            MessageSystemAttributeNames: [...RECEIVE_SYSTEM_ATTRIBUTES],
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
      lease: new Lease(),
      leaseUntil: receivedAt + this.#context.options.visibilityTimeoutSeconds * 1000,
    };
    this.#held.add(held);
    if (this.#stopping) {
      // Received by a poll that was under way at shutdown: straight back to the queue.
      this.#held.release([held], false);
      return;
    }
    void this.#executor.submit(held.lane, () => this.#run(held, record));
  }

  async #run(held: Held, record: TransportRecord): Promise<void> {
    // Handed back meanwhile (behind a retried message of its key, or at shutdown).
    if (held.state !== 'queued') return;
    if (held.lease.lost) {
      // Its visibility ran out while it waited: another member may have it, running it too would duplicate it.
      this.#held.forget(held);
      return;
    }
    held.state = 'running';
    try {
      await this.#onDelivery(this.#delivery(held, record));
    } catch (error) {
      this.#context.onError(error);
    }
    if (held.state === 'running' && !this.#abandoned) {
      // Returned without settling: hand the message back now rather than keep it invisible. Unless its lease is
      // lost: another member may hold it now, and a visibility change through the old receipt could disturb it.
      if (held.lease.lost) this.#held.forget(held);
      else this.#held.release([held], true);
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
    /** Runs a settle while the message is still held, then forgets it. */
    const settling = async (run: () => Promise<void>): Promise<void> => {
      held.state = 'settled';
      try {
        await held.heartbeat?.catch(() => undefined);
        await run();
      } finally {
        this.#held.forget(held);
      }
    };
    return settleOnce(
      { record, group: this.#group, partition: 0, offset, attempt, signal: held.lease.signal },
      {
        ack: () =>
          settling(async () => {
            await ops.delete(queues.queue.url, held.receipt);
            released.forget(held.messageId);
          }),
        retryLater: (delayMs: number) =>
          settling(async () => {
            if (this.#fifo) this.#held.releaseFollowers(held);
            // AWS caps visibility at 12 hours from the receive: a longer delay comes back at the cap.
            const elapsed = Math.ceil((Date.now() - held.receivedAt) / 1000);
            const seconds = Math.min(
              Math.ceil(Math.max(0, delayMs) / 1000),
              MAX_VISIBILITY_SECONDS - elapsed - 1,
            );
            await ops.changeVisibility(queues.queue.url, held.receipt, Math.max(0, seconds));
          }),
        deadLetter: (failure: DeadLetterFailure) =>
          settling(async () => {
            await deadLetters.send(message, failure, { queues, partition: 0, offset });
            await ops.delete(queues.queue.url, held.receipt);
            released.forget(held.messageId);
          }),
      },
      {
        subject: `Delivery ${held.messageId} on "${queues.queue.name}"`,
        // Abandoned at shutdown (handed back to the queue already), or visible to the others again.
        skip: () => held.state === 'released' || held.lease.lost,
        onFailure: (error, action) => toHeraldError(error, SETTLE_ACTIONS[action]),
      },
    );
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
    return this.#closer.run(options, (timeoutMs) => this.#close(timeoutMs));
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retry);
    this.#held.wakeAll();
    this.#held.release(this.#held.inState('queued'), false);
    if (!(await settlesWithin(this.#executor.idle(), timeoutMs))) {
      this.#abandoned = true;
      this.#held.release(this.#held.inState('running'), true);
    }
    clearInterval(this.#heartbeat);
    await this.#held.handedBack();
    await this.#context.ops.drain();
    this.#readiness.closed();
    if (this.#loops.length === 0) this.#resolveFinished();
  }
}
