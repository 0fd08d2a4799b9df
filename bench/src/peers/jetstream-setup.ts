import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { TrialContext, TrialResources } from '../system.ts';
import { natsConnection } from './jetstream-connection.ts';

/** Messages a durable consumer may have delivered and unacknowledged at once. */
export const JETSTREAM_MAX_ACK_PENDING = 20_000;

/** A file-storage stream named after the trial, with one durable pull consumer per group; teardown deletes it. */
export async function jetstreamSetup(context: TrialContext): Promise<TrialResources> {
  const stream = `HERALD_BENCH_${context.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const subject = `herald-bench.${context.name.replace(/[^A-Za-z0-9_-]/g, '_')}.orders`;
  const nc = await natsConnection();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: stream,
      subjects: [subject],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: 1,
    });
    for (const group of context.groups) {
      await jsm.consumers.add(stream, {
        durable_name: group,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: JETSTREAM_MAX_ACK_PENDING,
      });
    }
  } finally {
    await nc.close();
  }
  return {
    resources: { stream, subject },
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
