import amqp from 'amqplib';

// The RabbitMQ broker of B3: the local server, guest/guest on loopback.

export const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const RABBITMQ_PORT = 5672;

/** The server's version, or undefined when it cannot be reached. */
export async function rabbitmqVersion(): Promise<string | undefined> {
  try {
    const connection = await amqp.connect(RABBITMQ_URL, { timeout: 3000 });
    const version = connection.connection.serverProperties.version;
    await connection.close();
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return undefined;
  }
}

/**
 * Deletes queues, then exchanges, each on its own channel attempt (an error closes an AMQP channel). Never
 * throws: whatever is left is named after its run.
 */
export async function deleteRabbitmqTopology(
  queues: readonly string[],
  exchanges: readonly string[],
): Promise<void> {
  let connection;
  try {
    connection = await amqp.connect(RABBITMQ_URL, { timeout: 5000 });
  } catch {
    return;
  }
  try {
    let channel = await connection.createChannel();
    const attempt = async (remove: () => Promise<unknown>): Promise<void> => {
      try {
        await remove();
      } catch {
        channel = await connection.createChannel();
      }
    };
    for (const queue of queues) await attempt(() => channel.deleteQueue(queue));
    for (const exchange of exchanges) await attempt(() => channel.deleteExchange(exchange));
    await channel.close().catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
