import type { JetStreamManager } from '@nats-io/jetstream';
import { createInbox, nanos, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { Subscription as NatsSub } from '@nats-io/transport-node';
import type { Flow } from './flow.ts';

/** A message pulled from a durable consumer, with the acknowledgements JetStream understands. */
export interface PulledMessage {
  /** The stream sequence. */
  readonly seq: number;
  /** How many times the server delivered it to this consumer (1 on the first delivery). */
  readonly deliveryCount: number;
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
  /** Done (`+ACK`). */
  ack(): void;
  /** Redeliver, after `delayMs` if given (`-NAK {"delay": ns}`). */
  nak(delayMs?: number): void;
  /** Still being handled: restart the ack wait (`+WPI`). */
  working(): void;
}

const encoder = new TextEncoder();
const ACK = encoder.encode('+ACK');
const NAK = encoder.encode('-NAK');
const WPI = encoder.encode('+WPI');

/** What the ack subject of a delivered message tells. */
export interface AckInfo {
  readonly deliveryCount: number;
  /** Stream sequence. */
  readonly seq: number;
  /** Consumer (delivery) sequence: +1 on every delivery of the consumer. */
  readonly deliverySeq: number;
}

/**
 * Reads `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (and the form with domain and
 * account hash after `ACK`).
 */
export function parseAckSubject(subject: string): AckInfo | undefined {
  if (!subject.startsWith('$JS.ACK.')) return undefined;
  // Runs once per delivered message: one split, no intermediate arrays.
  const tokens = subject.split('.', 12);
  const at = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1;
  if (at < 0) return undefined;
  const deliveryCount = Number(tokens[at]);
  const seq = Number(tokens[at + 1]);
  const deliverySeq = Number(tokens[at + 2]);
  if (
    !Number.isSafeInteger(deliveryCount) ||
    !Number.isSafeInteger(seq) ||
    !Number.isSafeInteger(deliverySeq)
  )
    return undefined;
  return { deliveryCount, seq, deliverySeq };
}

class Pulled implements PulledMessage {
  readonly seq: number;
  readonly deliveryCount: number;
  readonly #msg: Msg;

  constructor(msg: Msg, info: AckInfo) {
    this.#msg = msg;
    this.seq = info.seq;
    this.deliveryCount = info.deliveryCount;
  }

  get subject(): string {
    return this.#msg.subject;
  }

  get headers(): MsgHdrs | undefined {
    return this.#msg.headers;
  }

  get data(): Uint8Array {
    return this.#msg.data;
  }

  ack(): void {
    this.#msg.respond(ACK);
  }

  nak(delayMs?: number): void {
    if (delayMs === undefined || delayMs <= 0) this.#msg.respond(NAK);
    else this.#msg.respond(encoder.encode(`-NAK ${JSON.stringify({ delay: nanos(delayMs) })}`));
  }

  working(): void {
    this.#msg.respond(WPI);
  }
}

/** What a {@link Puller} pulls from and where it hands what it gets. */
export interface PullerOptions {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** The JetStream API prefix (`$JS.API`, or the domain's). */
  readonly apiPrefix: string;
  readonly stream: string;
  readonly consumer: string;
  /** How long one pull request waits on the server. */
  readonly expiresMs: number;
  /** Most messages one pull request asks for. */
  readonly batch: number;
  readonly flow: Flow;
  /** Aborted when the puller must stop asking. */
  readonly signal: AbortSignal;
  readonly onMessage: (message: PulledMessage) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Pulls from one durable consumer on a long-lived inbox: one pull request at a time (`CONSUMER.MSG.NEXT`,
 * sized by the subscription's {@link Flow}), the next one sent when it is filled or expires.
 *
 * Why not the client's `fetch`/`consume`: when a partition changes hands, no record may be left in transit to
 * the old owner, or the new owner gets the records after it first. {@link stop} drains the inbox (unsubscribe;
 * everything the server sent before that still arrives), then asks for the consumer's info, which makes the
 * server drop pull requests whose inbox has no interest (nats-server 2.9 otherwise still delivers to them, and
 * such a record comes back only after its ack wait). The info also tells whether the server delivered anything
 * this puller never saw (the consumer's delivery sequence), in which case the hand-over is marked dirty and the
 * next owner waits out the ack wait. {@link start} does the same clean-up for a previous owner's requests.
 */
export class Puller {
  readonly #options: PullerOptions;
  readonly #subject: string;
  readonly #heartbeatMs: number;
  readonly #inbox = createInbox();
  #subscription: NatsSub | undefined;
  #outstanding = 0;
  #requesting = false;
  #watchdog: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  /** The highest delivery sequence known to have reached this puller (or anyone before it started). */
  #seenDeliverySeq = 0;

  constructor(options: PullerOptions) {
    this.#options = options;
    this.#subject = `${options.apiPrefix}.CONSUMER.MSG.NEXT.${options.stream}.${options.consumer}`;
    this.#heartbeatMs = Math.min(30_000, Math.max(500, Math.floor(options.expiresMs / 4)));
  }

  /** Inspects the consumer (dropping stale pull requests), then starts pulling. */
  async start(): Promise<void> {
    const info = await this.#options.jsm.consumers.info(this.#options.stream, this.#options.consumer);
    this.#seenDeliverySeq = info.delivered.consumer_seq;
    if (this.#stopped) return;
    this.#subscription = this.#options.nc.subscribe(this.#inbox, {
      callback: (error, msg) => {
        if (error !== null) this.#failed(error);
        else this.#onMessage(msg);
      },
    });
    void this.#request();
  }

  get #stopped(): boolean {
    return this.#options.signal.aborted;
  }

  async #request(): Promise<void> {
    if (this.#requesting || this.#stopped) return;
    this.#requesting = true;
    try {
      const { flow, signal, batch, expiresMs, nc } = this.#options;
      let size = 0;
      // Another puller woken by the same freed room may take it first: wait again then.
      while (!this.#stopped && size === 0) {
        await flow.waitForRoom(signal);
        size = flow.room(batch);
      }
      if (this.#stopped) return;
      const request = { batch: size, expires: nanos(expiresMs), idle_heartbeat: nanos(this.#heartbeatMs) };
      nc.publish(this.#subject, encoder.encode(JSON.stringify(request)), { reply: this.#inbox });
      this.#outstanding = size;
      this.#arm();
    } catch (error) {
      this.#failed(error);
    } finally {
      this.#requesting = false;
    }
  }

  /** Heartbeats come every `heartbeatMs` while a request waits: silence means the request was lost. */
  #arm(): void {
    clearTimeout(this.#watchdog);
    if (this.#stopped) return;
    this.#watchdog = setTimeout(() => {
      this.#outstanding = 0;
      void this.#request();
    }, 3 * this.#heartbeatMs);
  }

  #ended(): void {
    clearTimeout(this.#watchdog);
    this.#outstanding = 0;
    void this.#request();
  }

  #failed(error: unknown): void {
    // Reported once per outage, not once per retry (a lost consumer fails every request until it is back).
    if (this.#failures === 0) this.#options.onError(error);
    this.#pauseThenAsk();
  }

  #pauseThenAsk(): void {
    clearTimeout(this.#watchdog);
    this.#outstanding = 0;
    this.#failures++;
    if (this.#stopped || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        void this.#request();
      },
      Math.min(5000, 250 * 2 ** Math.min(this.#failures, 5)),
    );
  }

  #onMessage(msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    const info = msg.reply === undefined ? undefined : parseAckSubject(msg.reply);
    if (info === undefined || code !== 0) {
      if (code === 100) {
        if (this.#outstanding > 0) this.#arm();
      } else if (code === 408 || code === 404) {
        this.#ended(); // The request expired (or found nothing): ask again.
      } else if (code === 409 && /server shutdown|leadership change/i.test(msg.headers?.description ?? '')) {
        this.#pauseThenAsk(); // Expected while a server restarts or a stream changes leader: not an error.
      } else {
        const description = msg.headers?.description ?? 'unexpected message';
        this.#failed(
          new Error(`pull from ${this.#options.stream}/${this.#options.consumer}: ${code} ${description}`),
        );
      }
      return;
    }
    this.#failures = 0;
    this.#seenDeliverySeq = Math.max(this.#seenDeliverySeq, info.deliverySeq);
    if (this.#outstanding > 0) this.#outstanding--;
    this.#options.onMessage(new Pulled(msg, info));
    if (this.#outstanding === 0) this.#ended();
    else this.#arm();
  }

  /** The connection came back: pull requests waiting on the server were lost with the old one, so ask again. */
  reconnected(): void {
    if (this.#stopped || this.#subscription === undefined) return;
    this.#ended();
  }

  /**
   * Stops asking and drains the inbox: resolves once every message the server sent is handed to `onMessage`,
   * to `true` when nothing the server delivered was missed (`false`: something is pending until its ack wait
   * ends, or the server could not be asked). Call after aborting the signal.
   */
  async stop(): Promise<boolean> {
    clearTimeout(this.#watchdog);
    clearTimeout(this.#retryTimer);
    const subscription = this.#subscription;
    if (subscription === undefined) return true;
    if (this.#options.nc.isClosed()) return false;
    if (!subscription.isClosed()) await subscription.drain().catch(() => undefined);
    clearTimeout(this.#watchdog);
    try {
      const info = await this.#options.jsm.consumers.info(this.#options.stream, this.#options.consumer);
      return info.delivered.consumer_seq <= this.#seenDeliverySeq;
    } catch {
      return false;
    }
  }
}
