import { outboxBacklog } from '@herald/telemetry';
import type pg from 'pg';
import { mapUnitOfWork } from '@herald/core';
import {
  postgresInbox,
  postgresOutbox,
  postgresOutboxRelay,
  postgresUnitOfWork,
  transaction,
} from '@herald/postgres';
import type { ServiceStorage, StorageOptions } from './storage.ts';

/**
 * Storage in the service's own PostgreSQL schema (`postgresUnitOfWork`): every transaction is one `pg` transaction
 * holding the state change, the inbox record and the outbox rows; the relay wakes on `LISTEN/NOTIFY` and claims
 * rows so that several instances of a service share one schema without reordering a key.
 */
export async function postgresStorage<S>(
  options: StorageOptions<S>,
  pool: pg.Pool,
  schema: string,
): Promise<ServiceStorage<S>> {
  const { stores, transport, source, log } = options;
  // These create the schema and Herald's tables (under Herald's lock), so they come first.
  const outbox = await postgresOutbox({ pool, schema, source });
  const inbox = await postgresInbox({ pool, schema });
  await transaction(pool, async (client) => {
    // Instances starting together would race on CREATE TABLE IF NOT EXISTS (a unique violation in pg_type).
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`herald-shop:${schema}`]);
    await stores.postgresSchema(client, schema);
  });
  const relay = postgresOutboxRelay({
    outbox,
    transport,
    onError: (error, failures) => log.warn('outbox relay: publish failed, retrying', { failures, error }),
    ...options.relay,
  });
  const unit = mapUnitOfWork(postgresUnitOfWork({ inbox, outbox }), (client, { emit }) => ({
    store: stores.postgres(client, schema, true),
    emit,
  }));

  return {
    kind: 'postgres',
    location: `schema ${schema}`,
    store: stores.postgres(pool, schema, false),
    run: (work) => unit.run(work),
    handle: (group, event, work) => unit.handle(group, event, work),
    start: () => relay.start(),
    close: () => relay.close(),
    pending: () => outbox.pending(),
    relayFailures: () => relay.stats.consecutiveFailures,
    backlog: outboxBacklog(outbox),
  };
}
