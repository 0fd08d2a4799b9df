import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startEmulator } from '@herald/sqs/testing';
import { tailWorkflow } from './tail-workflow.ts';

// fauxqs, the SNS/SQS emulator, in this process; the CLI processes reach it over HTTP.
const emulator = await startEmulator();
after(() => emulator.stop());
const port = new URL(emulator.endpoint).port;

tailWorkflow({
  name: 'SNS/SQS (fauxqs)',
  url: `sqs://127.0.0.1:${port}`,
  afterTail: async ({ stderr }) => {
    const removed = [...stderr.matchAll(/queue ([^,\n]+)/g)].map((m) => m[1]!);
    assert.ok(removed.length >= 2, `its queue and dead-letter queue: ${stderr}`);
    assert.match(stderr, /subscription arn:/);
    const sqs = new SQSClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const left = (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
      for (const name of removed) {
        assert.ok(!left.some((u) => u.endsWith(`/${name}`)), `${name} is deleted (left: ${left.join(', ')})`);
      }
    } finally {
      sqs.destroy();
    }
  },
});
