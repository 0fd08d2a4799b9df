import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { TrialContext, TrialResources } from '../system.ts';
import { natsConnection } from './jetstream-connection.ts';

/** Messages a durable consumer may have delivered and unacknowledged at once. */
export const JETSTREAM_MAX_ACK_PENDING = 20_000;

/** Unacknowledged messages per partition consumer on the partitioned topology (Herald's default). */
export const JETSTREAM_PARTITION_MAX_ACK_PENDING = 1000;

/** A file-storage stream named after the trial, with one durable pull consumer per group; teardown deletes it. */
export function jetstreamSetup(context: TrialContext): Promise<TrialResources> {
  return declare(context, 1);
}

/**
 * Herald's topology with the raw client: one stream with a subject per partition (`<subject>.p<n>`) and, per
 * group, a durable pull consumer per partition filtered on its subject.
 */
export function jetstreamPartitionedSetup(
  partitions: number,
): (context: TrialContext) => Promise<TrialResources> {
  return (context) => declare(context, partitions);
}

async function declare(context: TrialContext, partitions: number): Promise<TrialResources> {
  const stream = `HERALD_BENCH_${context.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const subject = `herald-bench.${context.name.replace(/[^A-Za-z0-9_-]/g, '_')}.orders`;
  const subjects =
    partitions === 1 ? [subject] : Array.from({ length: partitions }, (_, p) => `${subject}.p${p}`);
  const nc = await natsConnection();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: stream,
      subjects,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: 1,
    });
    for (const group of context.groups) {
      for (let p = 0; p < partitions; p++) {
        await jsm.consumers.add(stream, {
          durable_name: partitions === 1 ? group : `${group}-p${p}`,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          max_ack_pending: partitions === 1 ? JETSTREAM_MAX_ACK_PENDING : JETSTREAM_PARTITION_MAX_ACK_PENDING,
          ...(partitions === 1 ? {} : { filter_subject: subjects[p] }),
        });
      }
    }
  } finally {
    await nc.close();
  }
  return {
    resources: { stream, subject, ...(partitions === 1 ? {} : { partitions: String(partitions) }) },
    async teardown() {
      const conn = await natsConnection();
      try {
        const jsm = await jetstreamManager(conn);
        await jsm.streams.delete(stream);
      } finally {
        await conn.close();
      }
    },
  };
}
