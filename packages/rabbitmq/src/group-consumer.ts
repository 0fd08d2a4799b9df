import type { Channel, ConsumeMessage } from 'amqplib';
import {
  ErrorCodes,
  HeraldError,
  KeyedExecutor,
  type CloseOptions,
  type Delivery,
  type SubscribeOptions,
  type TransportRecord,
} from '@herald/core';
import { attemptOf, HeraldHeaders, messageToRecord, numberHeader, stringHeader } from './amqp-binding.ts';
import { planBalance, shuffled } from './balance.ts';
import type { ConfirmPublisher } from './confirm-publisher.ts';
import type { AmqpConnection } from './connection.ts';
import { ownPartition, type PartitionState, type TopicState } from './owned-partition.ts';
import { rabbitmqDelivery } from './rabbitmq-delivery.ts';
import { toHeraldError } from './rabbitmq-errors.ts';
import { declareGroup, HELPER_QUEUE_OPTIONS, type DeclaredTopology, type Topology } from './topology.ts';

/** What a {@link GroupConsumer} works with, from the transport. */
export interface ConsumerContext {
  readonly connection: AmqpConnection;
  readonly publisher: ConfirmPublisher;
  readonly topology: Topology;
  readonly declared: DeclaredTopology;
  readonly prefetch: number;
  readonly rebalanceIntervalMs: number;
  readonly onError: (error: unknown) => void;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/**
 * One member of a consumer group on RabbitMQ. Each (topic, group) has `partitions` durable queues with single
 * active consumer. A member owns a partition while its channel holds the exclusive consumer of the partition's
 * lock queue; it then consumes the partition queue on that channel with `prefetch`. Ownership is balanced by
 * {@link planBalance}: members count themselves through a members queue, hand over partitions above their share
 * (finishing what they started, then closing the channel, which returns the rest in order) and take free ones.
 * A member that dies loses its channels with its connection; the broker returns its unacknowledged messages to
 * the head of their queues, and whoever takes the partition next receives them first.
 *
 * Within the member a {@link KeyedExecutor} runs deliveries in order per key and in parallel across keys.
 */
export class GroupConsumer {
  readonly ready: Promise<void>;
  readonly #context: ConsumerContext;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #executor: KeyedExecutor;
  readonly #topics: TopicState[];
  readonly #startedAt = Date.now();
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #isReady = false;
  #control: Channel | undefined;
  #members: Channel | undefined;
  #membersOn = -1;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
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
    // The prefetch of each partition channel bounds what is buffered, so submitting never has to wait.
    this.#executor = new KeyedExecutor(options.concurrency, {
      maxPending: Number.MAX_SAFE_INTEGER,
      onError: (error) => context.onError(error),
    });
    this.#topics = [...new Set(options.topics)].map((topic) => ({
      topic,
      partitions: new Map(),
      declaredOn: -1,
      hungryTag: undefined,
    }));
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A caller that never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  get #group(): string {
    return this.#options.group;
  }

  /** Declares the group's queues, joins, takes a first share of partitions and keeps rebalancing. */
  start(): void {
    this.#ticking = this.#tick().then(
      () => this.#schedule(),
      (error: unknown) => {
        const failure = toHeraldError(error, 'joining the group');
        this.#isReady = true;
        this.#rejectReady(failure);
        // A refused topology (another partition count or queue type) will be refused again: stop here.
        if (!failure.permanent) this.#schedule();
      },
    );
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().then(
        () => this.#schedule(),
        (error: unknown) => {
          if (this.#stopping) return;
          const failure = toHeraldError(error, 'rebalancing');
          this.#context.onError(failure);
          if (!failure.permanent) this.#schedule();
        },
      );
    }, this.#context.rebalanceIntervalMs);
  }

  async #controlChannel(): Promise<Channel> {
    if (this.#control !== undefined) return this.#control;
    const channel = await this.#context.connection.channel();
    channel.on('close', () => {
      if (this.#control === channel) this.#control = undefined;
    });
    this.#control = channel;
    return channel;
  }

  /** One rebalance round over every topic of the subscription. */
  async #tick(): Promise<void> {
    if (this.#stopping) return;
    const { connection, topology, declared } = this.#context;
    await connection.open();
    let settled = true;
    for (const state of this.#topics) {
      if (this.#stopping) return;
      const control = await this.#controlChannel();
      if (state.declaredOn !== connection.generation) {
        try {
          await declareGroup(control, topology, state.topic, this.#group, declared);
        } catch (error) {
          throw toHeraldError(error, `declaring the queues of group "${this.#group}" on "${state.topic}"`);
        }
        state.declaredOn = connection.generation;
      }
      await this.#join();
      const members = await control.assertQueue(
        topology.membersQueue(state.topic, this.#group),
        HELPER_QUEUE_OPTIONS,
      );
      const hungry = await control.assertQueue(
        topology.hungryQueue(state.topic, this.#group),
        HELPER_QUEUE_OPTIONS,
      );
      const owned = [...state.partitions.values()].filter((p) => !p.released && !p.closed);
      const plan = planBalance(
        topology.partitions,
        members.consumerCount,
        owned.length,
        hungry.consumerCount,
      );
      const toRelease = owned.sort((a, b) => a.running - b.running).slice(0, plan.release);
      for (const partition of toRelease) void this.#release(partition);
      let claimed = owned.length - toRelease.length;
      if (plan.claim > 0) {
        const free = Array.from({ length: topology.partitions }, (_, i) => i).filter(
          (i) => !state.partitions.has(i),
        );
        for (const partition of shuffled(free)) {
          if (claimed >= plan.target || this.#stopping) break;
          if (await this.#claim(state, partition)) claimed++;
        }
      }
      await this.#setHungry(state, claimed < plan.fairShare);
      if (claimed < plan.fairShare) settled = false;
    }
    // Ready once this member holds its share everywhere; a peer slow to hand over delays it only so long.
    const patience = Math.max(2000, 10 * this.#context.rebalanceIntervalMs);
    if (!this.#isReady && (settled || Date.now() - this.#startedAt >= patience)) {
      this.#isReady = true;
      this.#resolveReady();
    }
  }

  /**
   * Consumes the members queue of each topic on one channel: the group's size is its consumer count. The broker
   * drops the consumer with the connection, so a member that dies stops counting at once.
   */
  async #join(): Promise<void> {
    const { connection, topology, declared } = this.#context;
    if (this.#members !== undefined && this.#membersOn === connection.generation) return;
    const channel = await connection.channel();
    channel.on('close', () => {
      if (this.#members === channel) this.#members = undefined;
    });
    for (const state of this.#topics) {
      state.hungryTag = undefined;
      const queue = topology.membersQueue(state.topic, this.#group);
      await channel.assertQueue(queue, HELPER_QUEUE_OPTIONS);
      declared.queues.add(queue);
      const hungry = topology.hungryQueue(state.topic, this.#group);
      await channel.assertQueue(hungry, HELPER_QUEUE_OPTIONS);
      declared.queues.add(hungry);
      await channel.consume(queue, () => undefined, { noAck: true });
    }
    this.#members = channel;
    this.#membersOn = connection.generation;
  }

  /** Says (or stops saying) that this member holds less than its fair share: the others then hand over. */
  async #setHungry(state: TopicState, hungry: boolean): Promise<void> {
    const channel = this.#members;
    if (channel === undefined || hungry === (state.hungryTag !== undefined)) return;
    if (hungry) {
      const queue = this.#context.topology.hungryQueue(state.topic, this.#group);
      state.hungryTag = (await channel.consume(queue, () => undefined, { noAck: true })).consumerTag;
    } else {
      const tag = state.hungryTag!;
      state.hungryTag = undefined;
      await channel.cancel(tag);
    }
  }

  /** Takes a free partition: its lock's exclusive consumer, then the partition queue, on a new channel. */
  async #claim(state: TopicState, partition: number): Promise<boolean> {
    const { connection, topology, declared, prefetch } = this.#context;
    const lock = topology.lockQueue(state.topic, this.#group, partition);
    const control = await this.#controlChannel();
    const { consumerCount } = await control.assertQueue(lock, HELPER_QUEUE_OPTIONS);
    declared.queues.add(lock);
    if (consumerCount > 0) return false;
    const channel = await connection.channel();
    try {
      await channel.consume(lock, () => undefined, { exclusive: true, noAck: true });
    } catch {
      // Another member took it first: the broker closed this channel.
      await channel.close().catch(() => undefined);
      return false;
    }
    const queue = topology.partitionQueue(state.topic, this.#group, partition);
    const owned = ownPartition(state, partition, queue, channel, this.#stopping, (closed) =>
      this.#forgetWhenIdle(state, closed),
    );
    try {
      await channel.prefetch(prefetch);
      await channel.consume(owned.queue, (message) => this.#onMessage(state, owned, message), {
        noAck: false,
      });
    } catch (error) {
      // The queue is gone or the channel failed: declare again on the next tick.
      state.declaredOn = -1;
      await channel.close().catch(() => undefined);
      throw toHeraldError(error, `consuming ${owned.queue}`);
    }
    if (this.#stopping) {
      // Closed while this claim was under way: let go at once.
      await this.#release(owned);
      return false;
    }
    return true;
  }

  #forgetWhenIdle(state: TopicState, owned: PartitionState): void {
    if (owned.running > 0) return;
    for (const resolve of owned.idleWaiters.splice(0)) resolve();
    if (owned.closed && state.partitions.get(owned.partition) === owned)
      state.partitions.delete(owned.partition);
  }

  /** Hands a partition over: nothing new starts, what runs finishes, then the channel closes. */
  async #release(owned: PartitionState): Promise<void> {
    owned.released = true;
    if (owned.running > 0) await new Promise<void>((resolve) => owned.idleWaiters.push(resolve));
    // Closing the channel returns what it holds unacknowledged to the head of the queue, in order, and frees the
    // lock in the same step; the partition's single active consumer cannot move on before that.
    await owned.channel.close().catch(() => undefined);
  }

  #onMessage(state: TopicState, owned: PartitionState, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (the queue was deleted): let go, declare again on the next tick.
      state.declaredOn = -1;
      void this.#release(owned);
      return;
    }
    // Held back: the message returns to the queue when the channel closes.
    if (owned.released || owned.closed || this.#stopping) return;
    let record: TransportRecord;
    try {
      record = messageToRecord(owned.topic, message);
    } catch (error) {
      this.#context.onError(error);
      return;
    }
    void this.#executor.submit(record.key, () => this.#handle(state, owned, message, record));
  }

  async #handle(
    state: TopicState,
    owned: PartitionState,
    message: ConsumeMessage,
    record: TransportRecord,
  ): Promise<void> {
    // Not started before a hand-over or shutdown: left unacknowledged, so it returns to the queue in order.
    if (owned.released || owned.closed || this.#stopping) return;
    owned.running++;
    try {
      const dueAt = numberHeader(message, HeraldHeaders.dueAt);
      if (dueAt !== undefined && dueAt > Date.now() + 1) {
        // Back from the longest delay tier before it is due: delay again, without a delivery.
        await this.#context.publisher.delay(
          record,
          owned.queue,
          attemptOf(message),
          dueAt - Date.now(),
          stringHeader(message, HeraldHeaders.retryError) ?? '',
        );
        owned.channel.ack(message);
        return;
      }
      await this.#onDelivery(
        rabbitmqDelivery(this.#group, owned, message, record, this.#context.publisher, () => this.#abandoned),
      );
    } catch (error) {
      this.#context.onError(error);
    } finally {
      owned.running--;
      this.#forgetWhenIdle(state, owned);
    }
  }

  /**
   * Stops taking work, waits up to `timeoutMs` for running deliveries to settle, then closes every channel: what
   * was not settled returns to its queue, in order, for the group's other members (or the next to join).
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    // A round under way (waiting for a reconnection, say) finishes on its own; it lets go of what it takes.
    await Promise.race([this.#ticking.catch(() => undefined), expired]);
    const drained =
      Date.now() < deadline && (await Promise.race([this.#executor.idle().then(() => true), expired]));
    clearTimeout(timer);
    if (!drained) this.#abandoned = true;
    const channels = this.#topics.flatMap((t) => [...t.partitions.values()].map((p) => p.channel));
    if (this.#members !== undefined) channels.push(this.#members);
    if (this.#control !== undefined) channels.push(this.#control);
    await Promise.all(channels.map((channel) => channel.close().catch(() => undefined)));
    this.#rejectReady(new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready'));
  }
}
