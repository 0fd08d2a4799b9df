import { Queue, Worker } from 'bullmq';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { eventObject, type StructuredEvent } from '../message.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { nowUs } from '../clock.ts';
import { redisConnection } from './redis-connection.ts';

/** Jobs a worker process runs at once. */
export const BULLMQ_CONCURRENCY = 10;

const JOB_NAME = 'OrderPlaced';
// Completed jobs are removed at once, as a message queue would; otherwise Redis grows by every event.
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const;

async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const connection = redisConnection();
  const queue = new Queue(spec.resources.queue!, { connection, defaultJobOptions: JOB_OPTIONS });
  await queue.waitUntilReady();
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      const jobs = Array.from({ length: n }, (_, i) => ({
        name: JOB_NAME,
        data: eventObject(from + i, sentAt),
      }));
      await queue.addBulk(jobs);
    },
    async publishOne(seq, sentAt) {
      await queue.add(JOB_NAME, eventObject(seq, sentAt));
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

async function consumer(spec: TrialSpec, _placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const connection = redisConnection();
  const worker = new Worker<StructuredEvent>(
    spec.resources.queue!,
    (job) => {
      sink.accept(job.data.data);
      return Promise.resolve();
    },
    { connection, concurrency: BULLMQ_CONCURRENCY },
  );
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

export const bullmqClient: PeerClient = { producer, consumer };
