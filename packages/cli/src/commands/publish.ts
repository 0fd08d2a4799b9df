import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  contracts,
  parseJson,
  UsageError,
  withTransport,
  type GlobalOptions,
  type Io,
} from '../cli-context.ts';
import { CLI_SOURCE, publishOperatorEvent } from '../publish-event.ts';

interface PublishOptions {
  type: string;
  data: string;
  key?: string;
  source?: string;
  subject?: string;
  id?: string;
  force?: boolean;
  json?: boolean;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The `--data` text: the JSON itself, `@path` for a file's contents, or `-` for stdin. A file that cannot be read
 * is a usage error naming it.
 */
export async function dataText(option: string, io: Io): Promise<{ text: string; from: string }> {
  if (option === '-') return { text: await readStream(io.stdin ?? process.stdin), from: 'the data on stdin' };
  if (option.startsWith('@')) {
    const path = option.slice(1);
    try {
      return { text: await readFile(path, 'utf8'), from: `the data in ${path}` };
    } catch (error) {
      throw new UsageError(
        `--data ${option}: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return { text: option, from: '--data' };
}

/** Adds `publish <topic>` to `program`. */
export function addPublishCommand(program: Command, globals: () => GlobalOptions, io: Io): void {
  program
    .command('publish')
    .description(
      "publish one event, validated against its definition's schema when the type is known (--contracts)",
    )
    .argument('<topic>', 'the topic')
    .requiredOption('--type <type>', 'the CloudEvents type')
    .requiredOption('--data <json>', 'the data: JSON, @file.json, or - for stdin')
    .option('--key <key>', "the partition key (default: the definition's key of the data)")
    .option('--source <uri>', `the CloudEvents source (default ${CLI_SOURCE})`)
    .option('--subject <subject>', 'the CloudEvents subject (default: the definition’s, else the key)')
    .option('--id <id>', 'the event id (default: a new UUIDv7)')
    .option('--force', 'publish a type unknown to --contracts, unvalidated (refused without it)')
    .option('--json', 'print the event and where it landed as JSON')
    .addHelpText(
      'after',
      `
Prints the published event's id (exit code 0). Refused, exit code 1 (HERALD_VALIDATION, naming each field):
data that fails the schema, a known type sent to another topic than its definition's, a type the contracts do
not define (unless --force). Data that is not JSON: exit code 2.`,
    )
    .action(async (topic: string, options: PublishOptions) => {
      const { text, from } = await dataText(options.data, io);
      const data = parseJson(from, text);
      const definitions = await contracts(globals(), io);
      await withTransport(globals(), io, async (transport) => {
        const published = await publishOperatorEvent(transport, {
          topic,
          type: options.type,
          data,
          definitions,
          force: options.force === true,
          ...(options.key === undefined ? {} : { key: options.key }),
          ...(options.source === undefined ? {} : { source: options.source }),
          ...(options.subject === undefined ? {} : { subject: options.subject }),
          ...(options.id === undefined ? {} : { id: options.id }),
        });
        if (!published.validated) {
          io.stderr.write(
            `herald: note: ${options.type} is not among the known event definitions; published unvalidated (--force)\n`,
          );
        }
        if (options.json === true) {
          io.stdout.write(`${JSON.stringify({ ...published.receipt, event: published.event })}\n`);
        } else {
          io.stdout.write(`${published.event.id}\n`);
        }
      });
    });
}
