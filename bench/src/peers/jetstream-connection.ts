import { connect, type NatsConnection } from '@nats-io/transport-node';

export const NATS_SERVER = '127.0.0.1:4222';

export function natsConnection(): Promise<NatsConnection> {
  return connect({ servers: NATS_SERVER });
}
