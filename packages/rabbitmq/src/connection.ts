import type { ConnectionOptions } from 'node:tls';
import amqp, { type Channel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
import { closedError, toHeraldError } from './rabbitmq-errors.ts';

/** How a {@link AmqpConnection} connects. */
export interface ConnectionSettings {
  readonly url: string;
  /** Attempts before the first connection fails; once connected, reconnection never gives up. */
  readonly connectAttempts: number;
  /** The connection name shown by the broker. */
  readonly name: string;
  /** `tls.connect` options for an `amqps://` URL (CA, client certificate and key…). */
  readonly tls?: ConnectionOptions | undefined;
  readonly onError: (error: unknown) => void;
}

/**
 * One AMQP connection, opened on first use and reopened by amqplib's recovery (exponential backoff with jitter)
 * whenever it is lost. `generation` grows with every (re)connection, so users know when channels and
 * declarations made before are gone.
 */
export class AmqpConnection {
  readonly #settings: ConnectionSettings;
  #opening: Promise<RecoveringChannelModel> | undefined;
  #model: RecoveringChannelModel | undefined;
  #connected = false;
  #generation = 0;
  #closed = false;

  constructor(settings: ConnectionSettings) {
    this.#settings = settings;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Counts (re)connections; 0 before the first. */
  get generation(): number {
    return this.#generation;
  }

  /** Connects if not yet connected; rejects with `HERALD_TRANSPORT` when the first connection cannot be made. */
  async open(): Promise<RecoveringChannelModel> {
    if (this.#closed) throw closedError('connecting');
    this.#opening ??= this.#open();
    try {
      return await this.#opening;
    } catch (error) {
      // A failed start-up is retried on the next use rather than remembered forever.
      this.#opening = undefined;
      throw error;
    }
  }

  async #open(): Promise<RecoveringChannelModel> {
    const { url, connectAttempts, name, tls, onError } = this.#settings;
    let model: RecoveringChannelModel;
    try {
      model = await amqp.connect(url, {
        // amqplib hands the socket options to `tls.connect` for amqps://; its own keys below are not TLS ones.
        ...tls,
        clientProperties: { connection_name: name },
        recovery: {
          initialDelay: 100,
          maxDelay: 5000,
          initialMaxRetries: connectAttempts - 1,
          maxRetries: Infinity,
          waitForConnect: false,
        },
      });
    } catch (error) {
      throw toHeraldError(error, 'connecting');
    }
    model.on('connect', () => {
      this.#connected = true;
      this.#generation++;
    });
    model.on('disconnect', (error: Error) => {
      this.#connected = false;
      if (!this.#closed) onError(toHeraldError(error, 'connected (reconnecting)'));
    });
    model.on('blocked', (reason: string) => {
      onError(toHeraldError(new Error(`connection blocked by the broker: ${reason}`), 'publishing'));
    });
    model.on('error', (error: unknown) => {
      if (!this.#closed) onError(toHeraldError(error, 'connected'));
    });
    this.#model = model;
    try {
      await model.waitForConnect();
    } catch (error) {
      this.#model = undefined;
      await model.close().catch(() => undefined);
      throw this.#closed ? closedError('connecting') : toHeraldError(error, 'connecting');
    }
    if (this.#closed) {
      await model.close().catch(() => undefined);
      throw closedError('connecting');
    }
    return model;
  }

  /** A new channel; its `error` events (the broker closing it) are handled, and surface as its `close`. */
  async channel(): Promise<Channel> {
    const model = await this.open();
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw this.#closed ? closedError('opening a channel') : toHeraldError(error, 'opening a channel');
    }
    channel.on('error', () => undefined);
    return channel;
  }

  /** A new channel in confirm mode. */
  async confirmChannel(): Promise<ConfirmChannel> {
    const model = await this.open();
    let channel: ConfirmChannel;
    try {
      channel = await model.createConfirmChannel();
    } catch (error) {
      throw this.#closed ? closedError('opening a channel') : toHeraldError(error, 'opening a channel');
    }
    channel.on('error', () => undefined);
    return channel;
  }

  /** Closes the connection (idempotent). Channels close with it; unacknowledged deliveries return to queues. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected = false;
    const model = this.#model;
    this.#model = undefined;
    if (model !== undefined) await model.close().catch(() => undefined);
    else await this.#opening?.then((m) => m.close()).catch(() => undefined);
  }
}
