import { createRouter, type Router, type RouterOptions, type Transport } from '@herald/core';
import { interopCodec } from './plain-json-interop.ts';
import type { Logger } from './logger.ts';
import {
  openStorage,
  type Database,
  type RelayOverrides,
  type ServiceStorage,
  type StoreBackends,
} from './storage.ts';

/** Options of {@link eventPlumbing}. */
export interface EventPlumbingOptions<S> {
  readonly database: Database;
  readonly stores: StoreBackends<S>;
  readonly transport: Transport;
  readonly group: string;
  readonly source: string;
  readonly log: Logger;
  /** Overrides of the relay's options (tests shorten the poll interval). */
  readonly relay?: RelayOverrides;
  /** Overrides of the router's options. */
  readonly router?: Partial<Omit<RouterOptions, 'transport' | 'group' | 'source'>>;
}

/** The service-facing options every service factory takes. */
export type ServiceOptions = Pick<
  EventPlumbingOptions<unknown>,
  'database' | 'transport' | 'relay' | 'router'
> & {
  readonly log?: Logger;
};

/** The health of a service's event side, for `GET /health`. */
export interface PlumbingHealth {
  readonly status: 'ok' | 'degraded';
  readonly storage: ServiceStorage<unknown>['kind'];
  readonly outbox: { readonly pending: number; readonly consecutiveFailures: number };
}

/** What every shop service is made of: its storage (state, outbox, inbox, relay) and its router. */
export interface EventPlumbing<S> {
  readonly storage: ServiceStorage<S>;
  readonly router: Router;
  /** Starts the relay, then the router. */
  start(): Promise<void>;
  /** Stops the router (in-flight handlers finish), then the relay (the batch in flight finishes). */
  close(): Promise<void>;
  health(): Promise<PlumbingHealth>;
}

/**
 * Wires a service's event side: storage on its database (SQLite or PostgreSQL) and a router whose handlers run as
 * one transaction each (state + inbox record + follow-up events in the outbox). The router reads CloudEvents only
 * unless a service passes the plain-JSON interop codec (`interopRouterOptions`, `HERALD_ACCEPT_PLAIN_JSON=1`).
 */
export async function eventPlumbing<S>(options: EventPlumbingOptions<S>): Promise<EventPlumbing<S>> {
  const { transport, group, source, log } = options;
  const storage = await openStorage({
    database: options.database,
    stores: options.stores,
    source,
    transport,
    log,
    ...(options.relay === undefined ? {} : { relay: options.relay }),
  });
  const router = createRouter({
    transport,
    group,
    source,
    codec: interopCodec(false),
    onError: (error) => log.error('router error', { error }),
    logger: {
      warn: (fields, message) => log.warn(message, fields),
      error: (fields, message) => log.error(message, fields),
    },
    ...options.router,
  });
  return {
    storage,
    router,
    async start() {
      await storage.start();
      await router.start();
    },
    async close() {
      await router.close();
      await storage.close();
    },
    async health() {
      const consecutiveFailures = storage.relayFailures();
      return {
        status: consecutiveFailures >= 3 ? 'degraded' : 'ok',
        storage: storage.kind,
        outbox: { pending: await storage.pending(), consecutiveFailures },
      };
    },
  };
}
