// Child process of the failover test: parks the first record of its key (retryLater), holds the next one behind
// it, then dies with SIGKILL, leaving both to the group's next member.
import { decodeRecord } from '@herald/core';
import { createTransport } from './nats-test-server.ts';

const [topic, group] = process.argv.slice(2) as [string, string];
const transport = createTransport();
const subscription = transport.subscribe({ group, topics: [topic], concurrency: 4 }, async (delivery) => {
  const { seq } = decodeRecord(delivery.record).data as { seq: number };
  if (seq !== 0) throw new Error(`seq ${seq} should have been held behind seq 0`);
  await delivery.retryLater(3000, { name: 'Error', message: 'later' });
  // Time for seq 1 to arrive and be held, then die without a goodbye.
  setTimeout(() => process.stdout.write('PARKED\n', () => process.kill(process.pid, 'SIGKILL')), 500);
});
await subscription.ready;
process.stdout.write('READY\n');
