import { CONSUMER_CONCURRENCY } from './consumer.ts';
import { PRODUCER_WINDOW } from './producer.ts';
import type { B4SystemId } from './protocol.ts';
import { BARE_BATCH, BARE_IDLE_MS, GRAPHILE_CONCURRENCY, GRAPHILE_LOCAL_QUEUE } from './relays.ts';

/** A row of B4's tables. */
export interface B4System {
  readonly id: B4SystemId;
  readonly label: string;
  /** Whether this is Herald (the others are the peers its goal is measured against). */
  readonly herald: boolean;
  /** How the system's producer and relay are driven (the consumer is the same for all). */
  readonly notes: string;
}

/** B4's systems in run order (they interleave within each repetition). */
export const B4_SYSTEMS: readonly B4System[] = [
  {
    id: 'herald-outbox',
    label: 'Herald outbox + relay (@herald/postgres)',
    herald: true,
    notes:
      '`postgresOutbox({ pool, schema })` with its defaults: `addRecords` in the business transaction (a ' +
      'per-key advisory lock, `pg_notify` at commit); `postgresOutboxRelay` with its defaults (LISTEN ' +
      'wake-up, claims of up to 100 rows over 4 of 16 partitions with advisory locks and `FOR UPDATE SKIP ' +
      'LOCKED`, one publish call per claim, DELETE, COMMIT).',
  },
  {
    id: 'bare-skip-locked',
    label: 'bare FOR UPDATE SKIP LOCKED loop (floor)',
    herald: false,
    notes:
      'A plain INSERT into an outbox table (bigserial id, topic, key, jsonb attributes, bytea data) in the ' +
      `business transaction; one loop on one connection: BEGIN, SELECT the oldest ${BARE_BATCH} rows FOR ` +
      'UPDATE SKIP LOCKED, publish them in one call, DELETE them, COMMIT; again at once if it found rows, ' +
      `after ${BARE_IDLE_MS} ms if not (no wake-up: it polls). No order per key.`,
  },
  {
    id: 'graphile-worker',
    label: 'graphile-worker 0.17, batched',
    herald: false,
    notes:
      "`add_job('relay', payload)` (SQL) in the business transaction; `run()` with concurrency " +
      `${GRAPHILE_CONCURRENCY}, \`localQueue: { size: ${GRAPHILE_LOCAL_QUEUE} }\` (batched fetching), ` +
      '`completeJobBatchDelay: 0` and `failJobBatchDelay: 0` (batched completion); each job publishes its ' +
      'record, the records of the jobs running in one event-loop turn in one publish call; a job is deleted ' +
      'once its task resolves. 0.17.3: 0.18.0 requires Node 22.',
  },
];

/** What every system shares, for the report. */
export const B4_SHARED_NOTES =
  `Producer: one process, ${PRODUCER_WINDOW} connections; each business transaction is BEGIN, INSERT an order ` +
  "row, the system's outbox write, COMMIT. Relay: one process publishing to Herald's sqlite transport (D1) " +
  `on a fresh file per trial. Consumer: one process, the sqlite transport's \`subscribe\` with concurrency ` +
  `${CONSUMER_CONCURRENCY}; per event, in ONE transaction, Herald's PostgreSQL inbox records (group, event id) ` +
  'and the handler inserts an effect row (`inbox.once`), then the delivery is acknowledged.';
