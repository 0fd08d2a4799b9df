// Settings shared by the RabbitMQ integration tests and the contract suite's child process (which inherits the
// environment): one broker URL, and a name prefix per test run so the run's exchanges and queues can be removed.
import amqp from 'amqplib';
import { rabbitmq, type RabbitMqOptions, type RabbitMqTransport } from '../src/index.ts';

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
  const connection = await amqp.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await channel.close();
  } finally {
    await connection.close();
  }
}
