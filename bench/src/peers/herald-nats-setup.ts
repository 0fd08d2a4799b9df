import { createHash } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { TrialContext, TrialResources } from '../system.ts';
import { natsConnection } from './jetstream-connection.ts';

/**
 * Nothing to create: Herald creates its streams and consumers itself. The trial gets a prefix of its own (at most
 * 32 characters: a hash of the trial's name) and a topic of its own (topic streams take the subjects
 * `<topic>.<partition>`, which must not overlap another stream's); the teardown deletes every stream under the
 * prefix.
 */
export function heraldNatsSetup(context: TrialContext): Promise<TrialResources> {
  const prefix = `hb_${createHash('sha256').update(context.name).digest('hex').slice(0, 16)}`;
  const topic = `hb-${context.name}`;
  return Promise.resolve({
    resources: { prefix, topic },
    async teardown() {
      const nc = await natsConnection();
      try {
        const jsm = await jetstreamManager(nc);
        const names: string[] = [];
        for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) names.push(name);
        await Promise.all(names.map((name) => jsm.streams.delete(name)));
      } finally {
        await nc.close();
      }
    },
  });
}
