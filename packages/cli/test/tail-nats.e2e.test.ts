import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { tailWorkflow } from './tail-workflow.ts';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

tailWorkflow({
  name: 'NATS JetStream',
  url,
  afterTail: async ({ stderr }) => {
    const removed = [...stderr.matchAll(/consumer ([^/\s]+)\/([^,\n]+)/g)].map((m) => ({
      stream: m[1]!,
      consumer: m[2]!,
    }));
    assert.ok(removed.length > 0, `it removed its consumers: ${stderr}`);
    const nc = await connect({ servers: url.slice('nats://'.length) });
    try {
      const jsm = await jetstreamManager(nc);
      for (const { stream, consumer } of removed) {
        await assert.rejects(
          jsm.consumers.info(stream, consumer),
          /not found/i,
          `${stream}/${consumer} is gone`,
        );
      }
    } finally {
      await nc.close();
    }
  },
});
