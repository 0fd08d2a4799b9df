import assert from 'node:assert/strict';
import { connect } from 'amqplib';
import { removePrefixedTopology } from '../../rabbitmq/test/prefixed-topology.ts';
import { tailWorkflow } from './tail-workflow.ts';

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

tailWorkflow({
  name: 'RabbitMQ',
  url,
  afterTail: async ({ group, stderr }) => {
    const removed = [...stderr.matchAll(/queue ([^,\n]+)/g)].map((m) => m[1]!);
    assert.ok(
      removed.some((q) => q.endsWith(`:${group}:0`)),
      `a partition queue of ${group} is among the removed: ${stderr}`,
    );
    const connection = await connect(url);
    try {
      for (const queue of removed) {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await assert.rejects(channel.checkQueue(queue), /404|NOT_FOUND/, `${queue} is gone`);
      }
    } finally {
      await connection.close();
    }
  },
  removeTopology: (prefix) => removePrefixedTopology(url, prefix),
});
