// The transport contract suite against the test broker, shared by the quorum-queue and the classic-queue runs
// (contract.int.test.ts, contract-classic.int.test.ts): same transports, same cleanup, only the name differs.
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { runContractSuite } from '@herald/core/testing';
import type { RabbitMqTransport } from '../src/index.ts';
import {
  brokerReachable,
  connectionFault,
  leaseFault,
  RABBITMQ_URL,
  removeTopology,
  testTransport,
} from './rabbitmq-test-settings.ts';

/** Runs the contract suite as `name` against the test broker, or one skipped test when it is not reachable. */
export async function runRabbitMqContract(name: string): Promise<void> {
  const created: RabbitMqTransport[] = [];
  if (await brokerReachable()) {
    runContractSuite({
      name,
      create: () => {
        const transport = testTransport();
        created.push(transport);
        return transport;
      },
      childModule: fileURLToPath(new URL('./contract-child.ts', import.meta.url)),
      rebalanceMs: 1000,
      timeoutMs: 15_000,
      connectionFault: await connectionFault(created),
      // No leaseTimeoutMs: the transport does not declare longHandlers (see rabbitmq-transport.ts).
      leaseFault: await leaseFault(created),
    });
    // Runs after the suite has closed its transports: the queues and exchanges of this run go too.
    after(() => removeTopology(created));
  } else {
    test(`transport contract: ${name}`, { skip: `RabbitMQ is not reachable at ${RABBITMQ_URL}` }, () => {});
  }
}
