import { Queue } from 'bullmq';
import type { TrialContext, TrialResources } from '../system.ts';
import { redisConnection } from './redis-connection.ts';

/** A queue named after the trial; the teardown obliterates it. */
export function bullmqSetup(context: TrialContext): Promise<TrialResources> {
  const queue = `herald-bench-${context.name}`;
  return Promise.resolve({
    resources: { queue },
    async teardown() {
      const connection = redisConnection();
      const handle = new Queue(queue, { connection });
      try {
        await handle.obliterate({ force: true });
      } finally {
        await handle.close();
        connection.disconnect();
      }
    },
  });
}
