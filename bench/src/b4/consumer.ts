import type pg from 'pg';
import type { Transport } from '@herald/core';
import { postgresInbox } from '@herald/postgres';
import { nowUs } from '../clock.ts';
import { TOPIC } from '../message.ts';
import type { B4Schemas } from './protocol.ts';
import { seqOf } from './record.ts';

/** The consumer group (and inbox group) of B4's consumer. */
export const CONSUMER_GROUP = 'b4-consumer';
/** Deliveries in flight at once; each holds one connection of the consumer's pool for its inbox transaction. */
export const CONSUMER_CONCURRENCY = 16;

/** What the consumer has handled so far. */
export interface HandledLog {
  readonly entryUs: number[];
  readonly doneUs: number[];
  distinct: number;
  duplicates: number;
}

/**
 * Subscribes to the trial's topic and handles every event the same way for every system: in ONE transaction,
 * Herald's PostgreSQL inbox records `(group, event id)` and the handler inserts its effect row (`inbox.once`); a
 * redelivered event is recognised by the inbox and changes nothing. Handler entry and inbox commit times are
 * logged by sequence number; the delivery is acknowledged after the commit.
 */
export async function startConsumer(
  pool: pg.Pool,
  schemas: B4Schemas,
  transport: Transport,
  total: number,
): Promise<{ log: HandledLog; close(): Promise<void> }> {
  const inbox = await postgresInbox({ pool, schema: schemas.app });
  const effect = `INSERT INTO "${schemas.app}".effects (seq) VALUES ($1)`;
  const log: HandledLog = {
    entryUs: new Array<number>(total).fill(-1),
    doneUs: new Array<number>(total).fill(-1),
    distinct: 0,
    duplicates: 0,
  };
  const subscription = transport.subscribe(
    { group: CONSUMER_GROUP, topics: [TOPIC], concurrency: CONSUMER_CONCURRENCY },
    async (delivery) => {
      const entered = nowUs();
      const seq = seqOf(delivery.record);
      const fresh = await inbox.once(CONSUMER_GROUP, delivery.record.attributes.id!, async (client) => {
        await client.query(effect, [seq]);
      });
      if (fresh) {
        log.entryUs[seq] = entered;
        log.doneUs[seq] = nowUs();
        log.distinct++;
      } else {
        log.duplicates++;
      }
      await delivery.ack();
    },
  );
  await subscription.ready;
  return { log, close: () => subscription.close() };
}
