import type { Command } from 'commander';
import { HeraldError, type SeekTarget } from '@herald/core';
import { UsageError, withTransport, type GlobalOptions, type Io } from '../cli-context.ts';

/** Parses `--from`: `earliest`, `latest`, a decimal offset or an ISO time. */
export function seekTarget(text: string): SeekTarget {
  if (text === 'earliest' || text === 'latest') return text;
  if (/^\d+$/.test(text)) return { offset: text };
  const time = new Date(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(time.getTime())) return { time };
  throw new UsageError(`--from must be earliest, latest, an offset or an ISO time, got "${text}"`);
}

/** Adds `replay` to `program`. */
export function addOperationCommands(program: Command, globals: () => GlobalOptions, io: Io): void {
  program
    .command('replay')
    .description("move a consumer group's position on a topic (all partitions), where the transport can")
    .requiredOption('--group <group>', 'the consumer group')
    .requiredOption('--topic <topic>', 'the topic')
    .requiredOption('--from <position>', 'earliest, latest, an offset, or an ISO time')
    .action(async (options: { group: string; topic: string; from: string }) => {
      const target = seekTarget(options.from);
      await withTransport(globals(), io, async (transport) => {
        if (!transport.capabilities.replay || transport.seek === undefined) {
          throw new HeraldError(
            'HERALD_UNSUPPORTED',
            `replay is not supported by the ${transport.name} transport`,
            {
              permanent: true,
            },
          );
        }
        await transport.seek(options.group, options.topic, target);
        io.stdout.write(
          `moved group ${options.group} on ${options.topic} to ${options.from}; its consumers read from there when they next (re)join\n`,
        );
      });
    });
}
