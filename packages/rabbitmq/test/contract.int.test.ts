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

const created: RabbitMqTransport[] = [];

if (await brokerReachable()) {
  runContractSuite({
    name: 'rabbitmq',
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
  // Runs after the suite has closed its transports: the queues and exchanges of this run go too.
  after(() => removeTopology(created));
} else {
  test('transport contract: rabbitmq', { skip: `RabbitMQ is not reachable at ${RABBITMQ_URL}` }, () => {});
}
