// The contract suite again with classic queues (the `queueType: 'classic'` option): they requeue and
// dead-letter differently from quorum queues, and the guarantees must hold on both.
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { runContractSuite } from '@herald/core/testing';
import type { RabbitMqTransport } from '../src/index.ts';
import {
  brokerReachable,
  connectionFault,
  RABBITMQ_URL,
  removeTopology,
  testTransport,
} from './rabbitmq-test-settings.ts';

process.env.HERALD_RABBITMQ_TEST_QUEUE_TYPE = 'classic';
const created: RabbitMqTransport[] = [];

if (await brokerReachable()) {
  runContractSuite({
    name: 'rabbitmq (classic queues)',
    create: () => {
      const transport = testTransport();
      created.push(transport);
      return transport;
    },
    childModule: fileURLToPath(new URL('./contract-child.ts', import.meta.url)),
    rebalanceMs: 1000,
    timeoutMs: 15_000,
    connectionFault: await connectionFault(created),
  });
  after(() => removeTopology(created));
} else {
  test(
    'transport contract: rabbitmq (classic queues)',
    { skip: `RabbitMQ is not reachable at ${RABBITMQ_URL}` },
    () => {},
  );
}
