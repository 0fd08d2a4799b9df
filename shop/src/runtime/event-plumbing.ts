import { createRouter, type Router, type RouterOptions, type Transport } from '@herald/core';
import {
  outboxRelay,
  sqliteInbox,
  sqliteOutbox,
  unitOfWork,
  type OutboxRelay,
  type OutboxRelayOptions,
  type SqliteDatabase,
  type SqliteInbox,
  type SqliteOutbox,
  type UnitOfWorkRunner,
} from '@herald/sqlite';
import type { Logger } from './logger.ts';

/** Options of {@link eventPlumbing}. */
export interface EventPlumbingOptions {
  readonly db: SqliteDatabase;
  readonly transport: Transport;
  readonly group: string;
  readonly source: string;
  readonly log: Logger;
  /** Overrides of the relay's options (tests shorten the poll interval). */
  readonly relay?: Partial<Omit<OutboxRelayOptions, 'outbox' | 'transport'>>;
  /** Overrides of the router's options. */
  readonly router?: Partial<Omit<RouterOptions, 'transport' | 'group' | 'source'>>;
}

/** What every shop service is made of: its outbox, inbox, relay and router on its own database. */
export interface EventPlumbing {
  readonly outbox: SqliteOutbox;
  readonly inbox: SqliteInbox;
  readonly uow: UnitOfWorkRunner;
  readonly relay: OutboxRelay;
  readonly router: Router;
  /** Starts the relay, then the router. */
  start(): Promise<void>;
  /** Stops the router (in-flight handlers finish), then the relay (the batch in flight finishes). */
  close(): Promise<void>;
  /** For `GET /health`. */
  health(): { status: 'ok' | 'degraded'; outbox: { pending: number; consecutiveFailures: number } };
}

/**
 * Wires a service's event side: every handler runs as one transaction (state + inbox record + follow-up events
 * in the outbox), and the relay publishes the outbox in order.
 */
export function eventPlumbing(options: EventPlumbingOptions): EventPlumbing {
  const { db, transport, group, source, log } = options;
  const outbox = sqliteOutbox({ db, source });
  const inbox = sqliteInbox({ db });
  const uow = unitOfWork({ inbox, outbox });
  const relay = outboxRelay({
    outbox,
    transport,
    onError: (error, failures) => log.warn('outbox relay: publish failed, retrying', { failures, error }),
    ...options.relay,
  });
  const router = createRouter({
    transport,
    group,
    source,
    onError: (error) => log.error('router error', { error }),
    ...options.router,
  });
  return {
    outbox,
    inbox,
    uow,
    relay,
    router,
    async start() {
      relay.start();
      await router.start();
    },
    async close() {
      await router.close();
      await relay.close();
    },
    health() {
      const { consecutiveFailures } = relay.stats;
      return {
        status: consecutiveFailures >= 3 ? 'degraded' : 'ok',
        outbox: { pending: outbox.pending(), consecutiveFailures },
      };
    },
  };
}
