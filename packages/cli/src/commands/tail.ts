import type { Command } from 'commander';
import { connectWithDetails } from '../connect.ts';
import { describe, positiveInteger, type GlobalOptions, type Io } from '../cli-context.ts';
import { EPHEMERAL_GROUP_FOOTPRINT, removeEphemeralGroup } from '../ephemeral-group.ts';
import { tapStream, type TapEvent } from '../tap.ts';
import { formatJsonLine, formatPrettyLine } from '../tail-format.ts';

interface TailOptions {
  type: string[];
  key: string[];
  json?: boolean;
  fromBeginning?: boolean;
  limit?: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const FOOTPRINT_HELP = Object.entries(EPHEMERAL_GROUP_FOOTPRINT)
  .map(([name, what]) => `  ${name.padEnd(9)}${what}`)
  .join('\n');

/** Resolves on the first of SIGINT, SIGTERM, an abort of `signal`, or `stop()`; `dispose` removes the listeners. */
function stopper(signal: AbortSignal | undefined): {
  stopped: Promise<string>;
  stop: (why: string) => void;
  dispose: () => void;
} {
  let stop: (why: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const onSigint = (): void => stop('SIGINT');
  const onSigterm = (): void => stop('SIGTERM');
  const onAbort = (): void => stop('aborted');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) stop('aborted');
  return {
    stopped,
    stop,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Adds `tail <topic...>` to `program`. */
export function addTailCommand(program: Command, globals: () => GlobalOptions, io: Io): void {
  program
    .command('tail')
    .description(
      'print events as they arrive on topics, read with an ephemeral consumer group that disturbs no service',
    )
    .argument('<topics...>', 'the topics to follow')
    .option('--type <type>', 'only events of this CloudEvents type (repeatable: any of them)', collect, [])
    .option('--key <key>', 'only events with this partition key (repeatable: any of them)', collect, [])
    .option('--json', 'one JSON object per line (for jq): envelope, attributes, partition, offset, data')
    .option(
      '--from-beginning',
      'start at the beginning of the topics (sqlite, kafka, nats; not rabbitmq or sqs, whose new queues hold only what comes next)',
    )
    .option('--limit <n>', 'stop after n matching events', positiveInteger('--limit'))
    .addHelpText(
      'after',
      `
Stops cleanly on Ctrl-C or SIGTERM (exit code 0): unsubscribes, removes its group, closes the connection.
It reads with its own consumer group, herald-tail-<random> (prefixed by HERALD_TOPIC_PREFIX like the services'),
so every service group still gets every event. What that group leaves on the broker afterwards:
${FOOTPRINT_HELP}`,
    )
    .action(async (topics: string[], options: TailOptions) => {
      const g = globals();
      const connected = await connectWithDetails({
        broker: g.broker,
        env: io.env,
        onError: (error) => io.stderr.write(`herald: transport error: ${describe(error)}\n`),
      });
      const stop = stopper(io.signal);
      // A reader that went away (`herald tail … | head -1`) ends the tail as Ctrl-C does.
      let outputClosed = false;
      const onOutputError = (): void => {
        outputClosed = true;
        stop.stop('stdout closed');
      };
      io.stdout.on('error', onOutputError);
      let seen = 0;
      const print = (event: TapEvent): void => {
        if (outputClosed || (options.limit !== undefined && seen >= options.limit)) return;
        seen++;
        io.stdout.write(`${options.json === true ? formatJsonLine(event) : formatPrettyLine(event)}\n`);
        if (seen === options.limit) stop.stop('limit');
      };
      try {
        const tap = tapStream(
          connected.transport,
          {
            topics,
            types: options.type,
            keys: options.key,
            fromBeginning: options.fromBeginning === true,
            onError: (error) => io.stderr.write(`herald: ${describe(error)}\n`),
          },
          print,
        );
        try {
          const first = await Promise.race([tap.ready.then(() => 'ready'), stop.stopped]);
          if (first === 'ready') {
            io.stderr.write(
              `herald: tailing ${topics.join(', ')} as group ${tap.group} on ${connected.inner.name} (Ctrl-C to stop)\n`,
            );
          }
          await stop.stopped;
        } finally {
          await tap.close();
          await cleanUp(connected, tap.group, topics, io);
        }
      } finally {
        stop.dispose();
        io.stdout.off('error', onOutputError);
        await connected.transport.close({ timeoutMs: 2000 });
      }
    });
}

async function cleanUp(
  connected: Awaited<ReturnType<typeof connectWithDetails>>,
  group: string,
  topics: readonly string[],
  io: Io,
): Promise<void> {
  const brokerGroup = `${connected.topicPrefix}${group}`;
  try {
    const removal = await removeEphemeralGroup({
      transport: connected.inner,
      url: connected.url,
      group: brokerGroup,
      topics: topics.map((t) => `${connected.topicPrefix}${t}`),
    });
    if (removal.removed.length > 0) io.stderr.write(`herald: removed ${removal.removed.join(', ')}\n`);
    if (removal.leftBehind !== undefined)
      io.stderr.write(`herald: left behind for group ${brokerGroup}: ${removal.leftBehind}\n`);
  } catch (error) {
    io.stderr.write(
      `herald: could not remove group ${brokerGroup} from the broker (${describe(error)}); delete it by hand\n`,
    );
  }
}
