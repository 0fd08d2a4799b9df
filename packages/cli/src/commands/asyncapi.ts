import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { asyncApiDocument, type AsyncApiOptions } from '@herald/core';
import { contracts, UsageError, type GlobalOptions, type Io } from '../cli-context.ts';

const BINDINGS = ['kafka', 'amqp', 'nats'] as const;

interface AsyncApiCommandOptions {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly headers: string;
  readonly receive?: boolean;
  readonly out?: string;
}

/** Adds `asyncapi` to `program`: the AsyncAPI 3.0 document of the `--contracts` event definitions. */
export function addAsyncApiCommand(program: Command, globals: () => GlobalOptions, io: Io): void {
  program
    .command('asyncapi')
    .description(
      'print the AsyncAPI 3.0 document of the event definitions of --contracts (channels, messages, JSON Schema payloads, CloudEvents headers, partition keys)',
    )
    .option('--title <title>', 'the API title', 'Herald events')
    .option('--version <version>', 'the API version', '1.0.0')
    .option('--description <text>', 'the API description')
    .option('--headers <binding>', `the header names of one binding: ${BINDINGS.join(', ')}`, 'kafka')
    .option('--receive', 'also describe a receive operation per channel')
    .option('--out <file>', 'write the document to a file instead of stdout')
    .action(async (options: AsyncApiCommandOptions) => {
      if (!(BINDINGS as readonly string[]).includes(options.headers)) {
        throw new UsageError(`--headers must be one of ${BINDINGS.join(', ')}, got "${options.headers}"`);
      }
      const definitions = await contracts(globals(), io);
      if (definitions.size === 0) {
        throw new UsageError(
          'asyncapi needs the event definitions: --contracts <module> or HERALD_CONTRACTS',
        );
      }
      const document = asyncApiDocument([...definitions.values()], {
        title: options.title,
        version: options.version,
        ...(options.description === undefined ? {} : { description: options.description }),
        headers: options.headers as AsyncApiOptions['headers'],
        ...(options.receive === true ? { receive: true } : {}),
      });
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (options.out === undefined) io.stdout.write(text);
      else writeFileSync(options.out, text);
    });
}
