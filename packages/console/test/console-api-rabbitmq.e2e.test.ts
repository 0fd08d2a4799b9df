import assert from 'node:assert/strict';
import { removePrefixedTopology } from '../../rabbitmq/test/prefixed-topology.ts';
import { consoleApiScenario } from './console-api.ts';

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

consoleApiScenario({
  name: 'RabbitMQ',
  url,
  removeTopology: async (prefix) => {
    const removed = await removePrefixedTopology(url, prefix);
    assert.ok(removed.queues.length > 0, `the run's queues (prefix ${prefix}) were found and deleted`);
  },
});
