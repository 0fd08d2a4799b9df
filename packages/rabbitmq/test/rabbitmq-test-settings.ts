// Settings shared by the RabbitMQ integration tests and the contract suite's child process (which inherits the
// environment): one broker URL, and a name prefix per test run so the run's exchanges and queues can be removed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { ConnectionFault, LeaseFault } from '@herald/core/testing';
import { rabbitmq, type RabbitMqOptions, type RabbitMqTransport } from '../src/index.ts';
import { deleteTopology } from './prefixed-topology.ts';

export const RABBITMQ_URL = process.env.HERALD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

process.env.HERALD_RABBITMQ_TEST_PREFIX ??= `herald-test-${Date.now().toString(36)}-${process.pid}.`;
/** Prepended to every name a test transport declares. */
export const TEST_PREFIX = process.env.HERALD_RABBITMQ_TEST_PREFIX;

/**
 * Small and quick: four partitions, rebalancing every 100 ms, lost peers noticed on TCP close. The queue type
 * comes from `HERALD_RABBITMQ_TEST_QUEUE_TYPE` (inherited by the contract suite's child process).
 */
export function testTransport(options: Partial<RabbitMqOptions> = {}): RabbitMqTransport {
  const queueType = process.env.HERALD_RABBITMQ_TEST_QUEUE_TYPE === 'classic' ? 'classic' : 'quorum';
  return rabbitmq({
    url: RABBITMQ_URL,
    prefix: TEST_PREFIX,
    queueType,
    partitions: 4,
    rebalanceIntervalMs: 100,
    connectAttempts: 1,
    connectionName: 'herald-test',
    ...options,
  });
}

/**
 * Whether the broker answers. Under `CI=true` an unreachable broker is an error (the test file fails), so a
 * missing server can never pass as a skipped suite.
 */
export async function brokerReachable(): Promise<boolean> {
  try {
    const connection = await amqp.connect(RABBITMQ_URL, { timeout: 3000 });
    await connection.close();
    return true;
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(`RabbitMQ is not reachable at ${RABBITMQ_URL} (CI=true: failing, not skipping)`, {
        cause: error,
      });
    }
    return false;
  }
}

/** Removes what the given transports declared (queues first, then exchanges). */
export async function removeTopology(transports: readonly RabbitMqTransport[]): Promise<void> {
  const queues = new Set(transports.flatMap((t) => t.declaredTopology().queues));
  const exchanges = new Set(transports.flatMap((t) => t.declaredTopology().exchanges));
  await deleteTopology(RABBITMQ_URL, queues, exchanges);
}

const execFileAsync = promisify(execFile);

async function rabbitmqctl(...args: string[]): Promise<string> {
  return (await execFileAsync('rabbitmqctl', args, { encoding: 'utf8' })).stdout;
}

/** Whether `rabbitmqctl` can list connections here (it must run as a user that may reach the node). */
export async function canDropConnections(): Promise<boolean> {
  try {
    await rabbitmqctl('list_connections', 'name', '-q');
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes the broker close every connection whose client-provided name contains `connectionName` (as an operator's
 * `rabbitmqctl close_connection` or a broker restart would). Resolves with how many it closed, once closed.
 */
export async function dropConnections(connectionName: string): Promise<number> {
  const listing = await rabbitmqctl('list_connections', 'pid', 'client_properties', '-q');
  const pids = listing
    .split('\n')
    .filter((line) => line.includes(connectionName))
    .map((line) => line.split('\t')[0]!);
  for (const pid of pids) await rabbitmqctl('close_connection', pid, 'herald test');
  return pids.length;
}

/**
 * The contract suite's connection fault: transports under a connection name of their own, whose connections the
 * broker closes. The transports made are pushed to `created`, for cleanup.
 */
export async function connectionFault(created: RabbitMqTransport[]): Promise<ConnectionFault> {
  const droppable = await droppableTransports(created, 'fault');
  return 'unsupported' in droppable ? droppable : { create: droppable.create, interrupt: droppable.drop };
}

/**
 * Transports under a connection name of their own (`herald-<label>-…`), pushed to `created`, and `drop`, which
 * makes the broker close their connections and asserts it had some; or why that cannot be done here.
 */
async function droppableTransports(
  created: RabbitMqTransport[],
  label: string,
): Promise<{ create: () => RabbitMqTransport; drop: () => Promise<void> } | { unsupported: string }> {
  if (!(await canDropConnections())) return { unsupported: 'rabbitmqctl cannot list or close connections' };
  const connectionName = `herald-${label}-${process.pid}-${Date.now().toString(36)}`;
  return {
    create: () => {
      const transport = testTransport({ connectionName, onError: () => undefined });
      created.push(transport);
      return transport;
    },
    drop: async () => {
      assert.ok((await dropConnections(connectionName)) > 0, 'the broker had connections to close');
    },
  };
}

/**
 * The contract suite's lease fault: a member under a connection name of its own whose connection the broker
 * closes (as it does to a channel past `consumer_timeout`, which cannot be set per queue on the tested 3.10
 * broker). Its channels' unacknowledged messages go back to their queues and its deliveries lose their lease;
 * the member reconnects and receives them again. The transports made are pushed to `created`, for cleanup.
 */
export async function leaseFault(created: RabbitMqTransport[]): Promise<LeaseFault> {
  const droppable = await droppableTransports(created, 'lease');
  return 'unsupported' in droppable ? droppable : { create: droppable.create, provoke: droppable.drop };
}
