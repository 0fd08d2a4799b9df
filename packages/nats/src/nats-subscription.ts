import {
  ErrorCodes,
  HeraldError,
  KeyedExecutor,
  type CloseOptions,
  type Delivery,
  type SubscribeOptions,
  type Subscription,
} from '@herald/core';
import { Flow } from './flow.ts';
import { GroupMember, type TopicPartition } from './group-member.ts';
import { PartitionWorker } from './partition-worker.ts';
import type { WorkerContext } from './worker-context.ts';
import type { NatsContext } from './nats-context.ts';

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const tpKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

/**
 * One member of a consumer group on NATS: ensures the group's consumers, joins the group through a
 * {@link GroupMember}, and runs a {@link PartitionWorker} for each partition it owns, all sharing one
 * {@link KeyedExecutor} (the subscription's concurrency) and one {@link Flow} (its buffer bound).
 */
export class NatsSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly #context: Promise<NatsContext>;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #workers = new Map<string, PartitionWorker>();
  readonly #executor: KeyedExecutor;
  readonly #flow: Flow;
  readonly #setup: Promise<GroupMember>;
  #keepAlive: NodeJS.Timeout | undefined;
  #stopWatching: (() => void) | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #onClose: () => void;

  constructor(
    context: Promise<NatsContext>,
    options: SubscribeOptions,
    onDelivery: (delivery: Delivery) => Promise<void>,
    onClose: () => void,
  ) {
    this.#context = context;
    this.#options = options;
    this.#onDelivery = onDelivery;
    this.#onClose = onClose;
    this.#executor = new KeyedExecutor(options.concurrency, {
      maxPending: Number.MAX_SAFE_INTEGER,
      onError: (error) => this.#report(error),
    });
    this.#flow = new Flow(Math.max(options.concurrency * 2, 16));
    this.#setup = this.#start();
    this.#setup.catch(() => undefined);
    this.ready = this.#setup.then((member) => member.ready);
    this.ready.catch(() => undefined);
  }

  #report(error: unknown): void {
    console.error(`[herald] nats consumer ${this.#options.group}:`, error);
  }

  /** Ensures the topology and joins the group; resolves once the member has started (not yet ready). */
  async #start(): Promise<GroupMember> {
    const ctx = await this.#context;
    const { group, topics } = this.#options;
    const startFrom = this.#options.startFrom ?? 'earliest';
    await Promise.all([
      ctx.topology.groupStream(),
      ctx.topology.deadLetterStream(),
      ctx.topology.replayStream(),
    ]);
    const partitions = new Map<string, number>();
    await Promise.all(
      [...new Set(topics)].map(async (topic) => {
        partitions.set(topic, await ctx.topology.groupConsumers(group, topic, startFrom));
      }),
    );
    if (this.#closed) throw new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready');
    const workerContext: WorkerContext = {
      nc: ctx.nc,
      js: ctx.js,
      jsm: ctx.jsm,
      names: ctx.names,
      options: ctx.options,
      group,
      executor: this.#executor,
      flow: this.#flow,
      state: ctx.state,
      deadLetters: ctx.deadLetters,
      onDelivery: this.#onDelivery,
      report: (error) => this.#report(error),
    };
    const member = new GroupMember(ctx.nc, ctx.state, ctx.names, group, partitions, ctx.options, {
      acquire: (tp, dirty) => {
        this.#workers.set(tpKey(tp), new PartitionWorker(workerContext, tp.topic, tp.partition, dirty));
      },
      release: async (tp, timeoutMs) => {
        const clean = (await this.#workers.get(tpKey(tp))?.stop('release', timeoutMs)) ?? true;
        this.#workers.delete(tpKey(tp));
        // Hand-backs must reach the server before the claim is released, so the next owner gets them first.
        await ctx.nc.flush();
        return clean;
      },
      lose: async (tp) => {
        await this.#workers.get(tpKey(tp))?.stop('lose', 0);
        this.#workers.delete(tpKey(tp));
      },
      report: (error) => this.#report(error),
    });
    this.#keepAlive = setInterval(
      () => {
        for (const worker of this.#workers.values()) worker.keepAlive();
      },
      Math.max(100, Math.floor(ctx.options.ackWaitMs / 3)),
    );
    member.start();
    void this.#watchConnection(ctx);
    return member;
  }

  async #watchConnection(ctx: NatsContext): Promise<void> {
    const statuses = ctx.nc.status();
    // The client's status iterator has `stop()` (ends it and removes its listener), not in its declared type.
    this.#stopWatching = () => (statuses as { stop?: () => void }).stop?.();
    for await (const status of statuses) {
      if (status.type !== 'reconnect') continue;
      for (const worker of this.#workers.values()) worker.reconnected();
    }
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    try {
      const member = await this.#setup.catch(() => undefined);
      await member?.close(timeoutMs);
      clearInterval(this.#keepAlive);
      this.#stopWatching?.();
      const ctx = await this.#context.catch(() => undefined);
      if (ctx !== undefined && !ctx.nc.isClosed()) await ctx.nc.flush().catch(() => undefined);
    } finally {
      this.#onClose();
    }
  }
}
