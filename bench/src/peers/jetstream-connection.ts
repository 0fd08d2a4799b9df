import { connect, type NatsConnection } from '@nats-io/transport-node';

export const NATS_SERVER = '127.0.0.1:4222';

/**
 * A connection for the raw nats.js peers, with `noAsyncTraces` as Herald's transport sets it (no two Error objects
 * with stack traces per request), so both sides run the same client configuration.
 */
export function natsConnection(): Promise<NatsConnection> {
  return connect({ servers: NATS_SERVER, noAsyncTraces: true });
}
