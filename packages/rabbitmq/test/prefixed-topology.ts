// Removes what a test declared on RabbitMQ when the test cannot know every name (the CLI and the console declare
// groups, locks and dead-letter queues in processes of their own): everything whose name starts with the test's
// unique prefix. AMQP 0-9-1 cannot list queues, so `rabbitmqctl` lists them and AMQP deletes them. Leftover quorum
// queues pile up run after run; a few hundred of them made RabbitMQ 3.10 stall.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';

const execFileAsync = promisify(execFile);

/** Names on the vhost of `url` that `rabbitmqctl list_<kind>` reports, one a line. */
async function listNames(kind: 'queues' | 'exchanges', vhost: string): Promise<string[]> {
  const { stdout } = await execFileAsync(
    'rabbitmqctl',
    [`list_${kind}`, '-p', vhost, '--quiet', '--no-table-headers', '--timeout', '30', 'name'],
    { encoding: 'utf8', timeout: 40_000 },
  );
  return stdout.split('\n').filter((name) => name !== '');
}

/** What {@link removePrefixedTopology} deleted. */
export interface RemovedTopology {
  readonly queues: readonly string[];
  readonly exchanges: readonly string[];
}

/**
 * Deletes every queue, then every exchange, whose name starts with `prefix` on the vhost of `url`. The prefix must
 * be at least 8 characters, so a mistake cannot empty a shared broker. Resolves with the names deleted.
 */
export async function removePrefixedTopology(url: string, prefix: string): Promise<RemovedTopology> {
  if (prefix.length < 8) throw new Error(`refusing to delete by the short prefix "${prefix}"`);
  const path = new URL(url).pathname;
  const vhost = path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
  const queues = (await listNames('queues', vhost)).filter((name) => name.startsWith(prefix));
  const exchanges = (await listNames('exchanges', vhost)).filter((name) => name.startsWith(prefix));
  await deleteTopology(url, queues, exchanges);
  return { queues, exchanges };
}

/** Deletes the named queues, then the named exchanges, of the broker at `url`, over a connection of its own. */
export async function deleteTopology(
  url: string,
  queues: Iterable<string>,
  exchanges: Iterable<string>,
): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await channel.close();
  } finally {
    await connection.close();
  }
}
