/**
 * End to end on AWS SNS/SQS (`HERALD_BROKER=sqs://…`), through the real AWS SDK against a local SNS/SQS
 * emulator (fauxqs) that this file starts and stops; state in SQLite files. FIFO topics and queues, so order per
 * key holds. A short visibility timeout brings a SIGKILLed consumer's messages back in seconds.
 */
import { after } from 'node:test';
import { startEmulator } from '@herald/sqs/testing';
import type { Engine } from './e2e/engines.ts';
import { describeShopEndToEnd } from './e2e/shop-scenario.ts';

const emulator = await startEmulator();
after(() => emulator.stop());

const sqsEngine: Engine = {
  name: 'sqs',
  brokerUrl: () =>
    `sqs://${new URL(emulator.endpoint).host}?region=us-east-1&fifo=true&visibilityTimeoutSeconds=5&waitTimeSeconds=1`,
  // The emulator runs in this process: it is reachable once started.
  unreachable: () => Promise.resolve(undefined),
  // Everything the run created lives in the emulator, which stops with the file.
  cleanUp: () => Promise.resolve(),
};

await describeShopEndToEnd({ engine: sqsEngine });
