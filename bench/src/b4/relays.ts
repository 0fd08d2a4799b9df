import type pg from 'pg';
import { run } from 'graphile-worker';
import type { Transport, TransportRecord } from '@herald/core';
import { postgresOutbox, postgresOutboxRelay } from '@herald/postgres';
import { sleep } from '../clock.ts';
import { CoalescingPublisher } from './coalescing-publisher.ts';
import type { B4RelayResult, B4Schemas, B4SystemId } from './protocol.ts';
import { quietLogger } from './quiet-logger.ts';
import { fromPayload, type RecordPayload } from './record.ts';
import { RELAY_TASK } from './writers.ts';

/** Rows per claim of the bare loop (Herald's relay default `batchSize` is the same). */
export const BARE_BATCH = 100;
/** How long the bare loop sleeps when it found no row: it has no wake-up, so it polls. */
export const BARE_IDLE_MS = 1;
/** graphile-worker's jobs at once, and its local queue (batched fetching: "concurrency + 1", as its docs advise). */
export const GRAPHILE_CONCURRENCY = 24;
export const GRAPHILE_LOCAL_QUEUE = GRAPHILE_CONCURRENCY + 1;
/** Connections of each relay's pool. */
export const RELAY_POOL = 10;

/** A running relay: `close` stops it (the batch in flight finishes) and reports what it did. */
export interface RunningRelay {
  close(): Promise<Omit<B4RelayResult, 'cpuUs' | 'maxRssKb'>>;
}

/** Herald: `postgresOutboxRelay` with its defaults (LISTEN/NOTIFY wake-up, batches of 100, 4 partitions per claim). */
async function heraldRelay(pool: pg.Pool, schemas: B4Schemas, transport: Transport): Promise<RunningRelay> {
  const outbox = await postgresOutbox({ pool, schema: schemas.app });
  let errors = 0;
  const relay = postgresOutboxRelay({
    outbox,
    transport,
    onError: (error) => {
      errors++;
      console.error('[b4 herald relay]', error);
    },
  });
  await relay.start();
  return {
    async close() {
      await relay.close();
      return { publishCalls: relay.stats.batches, published: relay.stats.published, errors };
    },
  };
}

interface BareRow {
  id: string;
  topic: string;
  key: string | null;
  attributes: Record<string, string>;
  data: Buffer;
}

/**
 * The floor: one loop on one connection. BEGIN; SELECT the oldest rows FOR UPDATE SKIP LOCKED; publish them in one
 * call; DELETE them; COMMIT; again at once if it found rows, after {@link BARE_IDLE_MS} if not. No per-key
 * order, no wake-up, no backoff: the least a relay can do.
 */
async function bareRelay(pool: pg.Pool, schemas: B4Schemas, transport: Transport): Promise<RunningRelay> {
  const s = `"${schemas.app}"`;
  const select = `SELECT id, topic, key, attributes, data FROM ${s}.bare_outbox ORDER BY id LIMIT ${BARE_BATCH}
    FOR UPDATE SKIP LOCKED`;
  const remove = `DELETE FROM ${s}.bare_outbox WHERE id = ANY($1::bigint[])`;
  const client = await pool.connect();
  let stopping = false;
  let publishCalls = 0;
  let published = 0;
  let errors = 0;
  const loop = async (): Promise<void> => {
    while (!stopping) {
      let found = 0;
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<BareRow>(select);
        if (rows.length > 0) {
          const records: TransportRecord[] = rows.map((r) => ({
            topic: r.topic,
            key: r.key ?? undefined,
            attributes: r.attributes,
            data: r.data,
          }));
          await transport.publish(records);
          publishCalls++;
          published += rows.length;
          await client.query(remove, [rows.map((r) => r.id)]);
        }
        await client.query('COMMIT');
        found = rows.length;
      } catch (error) {
        errors++;
        console.error('[b4 bare relay]', error);
        await client.query('ROLLBACK').catch(() => undefined);
        await sleep(100);
      }
      if (found === 0) await sleep(BARE_IDLE_MS);
    }
  };
  const running = loop();
  return {
    async close() {
      stopping = true;
      await running;
      client.release();
      return { publishCalls, published, errors };
    },
  };
}

/**
 * graphile-worker batched: each job's task publishes its record (through a {@link CoalescingPublisher}, so the
 * records of the jobs running together go in one call); jobs are fetched through the local queue and completed in
 * batches (`completeJobBatchDelay: 0`, `failJobBatchDelay: 0`), its documented high-throughput settings. A
 * job is deleted when its task resolves: after the publish is acknowledged.
 */
async function graphileRelay(pool: pg.Pool, schemas: B4Schemas, transport: Transport): Promise<RunningRelay> {
  const publisher = new CoalescingPublisher(transport);
  let errors = 0;
  const runner = await run({
    pgPool: pool,
    noHandleSignals: true,
    concurrency: GRAPHILE_CONCURRENCY,
    logger: quietLogger,
    taskList: {
      [RELAY_TASK]: async (payload) => {
        try {
          await publisher.publish(fromPayload(payload as RecordPayload));
        } catch (error) {
          errors++;
          throw error;
        }
      },
    },
    preset: {
      worker: {
        schema: schemas.jobs,
        localQueue: { size: GRAPHILE_LOCAL_QUEUE },
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
      },
    },
  });
  return {
    async close() {
      await runner.stop();
      return { publishCalls: publisher.calls, published: publisher.published, errors };
    },
  };
}

/** Starts the relay of `system`, publishing to `transport`; resolves once it is running. */
export function startRelay(
  system: B4SystemId,
  pool: pg.Pool,
  schemas: B4Schemas,
  transport: Transport,
): Promise<RunningRelay> {
  switch (system) {
    case 'herald-outbox':
      return heraldRelay(pool, schemas, transport);
    case 'bare-skip-locked':
      return bareRelay(pool, schemas, transport);
    case 'graphile-worker':
      return graphileRelay(pool, schemas, transport);
  }
}
