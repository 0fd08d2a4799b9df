import type pg from 'pg';
import { postgresOutbox } from '@herald/postgres';
import { keyOf } from '../message.ts';
import type { B4Schemas, B4SystemId } from './protocol.ts';
import { orderRecord, toPayload } from './record.ts';

/** Writes business transaction `seq` on `client`, inside the transaction the caller opened. */
export type BusinessWrite = (client: pg.PoolClient, seq: number) => Promise<void>;

/** The graphile-worker task every job of B4 runs (the relay's). */
export const RELAY_TASK = 'relay';

/**
 * The business write of each system: the order row, then the event in the system's queue, in the same
 * transaction: Herald's `outbox.addRecords` (its defaults: a per-key advisory lock, `pg_notify` to wake the
 * relay), a plain INSERT into the bare outbox table, or graphile-worker's `add_job`.
 */
export async function businessWrite(
  system: B4SystemId,
  schemas: B4Schemas,
  pool: pg.Pool,
): Promise<BusinessWrite> {
  const s = `"${schemas.app}"`;
  const order = (client: pg.PoolClient, seq: number) =>
    client.query(`INSERT INTO ${s}.orders (seq, customer, total_cents) VALUES ($1, $2, $3)`, [
      seq,
      keyOf(seq),
      3998,
    ]);
  switch (system) {
    case 'herald-outbox': {
      const outbox = await postgresOutbox({ pool, schema: schemas.app });
      return async (client, seq) => {
        await order(client, seq);
        await outbox.addRecords(client, [orderRecord(seq)]);
      };
    }
    case 'bare-skip-locked':
      return async (client, seq) => {
        await order(client, seq);
        const record = orderRecord(seq);
        await client.query(
          `INSERT INTO ${s}.bare_outbox (topic, key, attributes, data) VALUES ($1, $2, $3, $4)`,
          [record.topic, record.key ?? null, JSON.stringify(record.attributes), Buffer.from(record.data)],
        );
      };
    case 'graphile-worker':
      return async (client, seq) => {
        await order(client, seq);
        await client.query(`SELECT "${schemas.jobs}".add_job($1, $2::json)`, [
          RELAY_TASK,
          JSON.stringify(toPayload(orderRecord(seq))),
        ]);
      };
  }
}
