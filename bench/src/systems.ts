import type { Environment, RedisInfo } from './environment.ts';
import { BULLMQ_CONCURRENCY } from './peers/bullmq-client.ts';
import { bullmqSetup } from './peers/bullmq-setup.ts';
import { HERALD_CONCURRENCY } from './peers/herald-client.ts';
import { heraldSetup } from './peers/herald-setup.ts';
import { JETSTREAM_PULL_BATCH } from './peers/jetstream-client.ts';
import { JETSTREAM_MAX_ACK_PENDING, jetstreamSetup } from './peers/jetstream-setup.ts';
import { sqliteRawSetup } from './peers/sqlite-raw-setup.ts';
import type { System } from './system.ts';

const BATCH = 500;

/** What an acknowledgement from this Redis means, from its persistence settings. */
export function redisDurability(redis: RedisInfo | undefined): string {
  if (!redis) return 'unknown (Redis settings unreadable)';
  if (redis.appendonly === 'yes' && redis.appendfsync === 'always') return 'D2 (AOF, appendfsync always)';
  if (redis.appendonly === 'yes') return `D1 (AOF, appendfsync ${redis.appendfsync})`;
  if (redis.save !== '') return `D0/D1: acked in memory, RDB snapshots only (save "${redis.save}")`;
  return 'D0/D1: acked in Redis memory only (no RDB, no AOF): survives a client crash, not a Redis restart';
}

/** Every system of B1, in the order they run within a repetition. */
export function b1Systems(env: Environment, heraldAvailable: boolean): System[] {
  const sqliteRaw = (durability: 'D1' | 'D2'): System => ({
    id: `sqlite-raw-${durability.toLowerCase()}`,
    peer: 'sqlite-raw',
    durability,
    label: 'raw better-sqlite3 (ceiling)',
    durabilityLabel:
      durability === 'D1' ? 'D1 (WAL, synchronous=NORMAL)' : 'D2 (WAL, synchronous=FULL: fsync per commit)',
    variants: durability === 'D1' ? ['single', 'competing', 'groups'] : ['single'],
    batch: BATCH,
    window: 1,
    notes:
      `INSERT in transactions of ${BATCH} rows (one autocommit INSERT per event at a fixed rate); the consumer ` +
      'SELECTs up to 1000 rows by a rowid cursor kept in memory (it writes nothing: an upper bound), polling ' +
      'every 1 ms when empty; competing members split rows by rowid % 2, groups each read every row.',
    setup: sqliteRawSetup,
  });
  const herald = (durability: 'D1' | 'D2'): System => ({
    id: `herald-${durability.toLowerCase()}`,
    peer: 'herald',
    durability,
    label: 'Herald sqlite transport',
    durabilityLabel:
      durability === 'D1'
        ? 'D1 (WAL, synchronous=NORMAL)'
        : 'D2 (WAL; the WAL is fsynced after each append, before the ack)',
    variants: durability === 'D1' ? ['single', 'competing', 'groups'] : ['single'],
    batch: BATCH,
    window: 1,
    notes:
      `\`sqlite({ path, durability })\` from @herald/sqlite, raw \`Transport\` API: \`publish\` of ${BATCH} records ` +
      'per call (one record per call at a fixed rate); `subscribe` with concurrency ' +
      `${HERALD_CONCURRENCY}, \`ack()\` awaited per delivery; default partitions (4), 16 keys.`,
    setup: heraldSetup,
  });
  const systems: System[] = [
    sqliteRaw('D1'),
    sqliteRaw('D2'),
    {
      id: 'bullmq',
      peer: 'bullmq',
      durability: 'D1',
      label: 'BullMQ on local Redis',
      durabilityLabel: redisDurability(env.redis),
      broker: 'redis-server',
      variants: ['single', 'competing'],
      batch: BATCH,
      window: 4,
      notes:
        `\`addBulk\` of ${BATCH} jobs, 4 calls in flight (\`add\` per event at a fixed rate), removeOnComplete; ` +
        `Worker with concurrency ${BULLMQ_CONCURRENCY} (of 1, 5, 10, 20, 50, 100, 500 tried here, 5–20 did best). ` +
        'BullMQ has no fan-out to groups: no groups variant.',
      setup: bullmqSetup,
    },
    {
      id: 'jetstream',
      peer: 'jetstream',
      durability: 'D1',
      label: 'NATS JetStream (nats.js)',
      durabilityLabel:
        'D1 (file storage, acked before fsync: this nats-server ' +
        `(${env.nats?.version ?? 'unknown'}) rejects \`sync_interval: always\`)`,
      broker: 'nats-server',
      variants: ['single', 'competing', 'groups'],
      batch: BATCH,
      window: 2,
      notes:
        `\`js.publish\` per event awaiting its ack, ${BATCH}×2 in flight; durable pull consumer per group, ` +
        `\`consume({ max_messages: ${JETSTREAM_PULL_BATCH} })\`, explicit \`ack()\` per message, ` +
        `max_ack_pending ${JETSTREAM_MAX_ACK_PENDING}.`,
      setup: jetstreamSetup,
    },
  ];
  if (heraldAvailable) systems.push(herald('D1'), herald('D2'));
  return systems;
}
