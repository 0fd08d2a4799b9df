import type { Command } from 'commander';
import { HeraldError, type SeekTarget } from '@herald/core';
import { UsageError, withTransport, type GlobalOptions, type Io } from '../cli-context.ts';
import { groupDeadLetters, listAll } from '../dead-letter-ops.ts';

/** Parses `--from`: `earliest`, `latest`, a decimal offset or an ISO time. */
export function seekTarget(text: string): SeekTarget {
  if (text === 'earliest' || text === 'latest') return text;
  if (/^\d+$/.test(text)) return { offset: text };
  const time = new Date(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(time.getTime())) return { time };
  throw new UsageError(`--from must be earliest, latest, an offset or an ISO time, got "${text}"`);
}

/** Adds `status` and `replay` to `program`. */
export function addOperationCommands(program: Command, globals: () => GlobalOptions, io: Io): void {
  program
    .command('status')
    .description('the transport, what it can do, and its dead-letter counts per group')
    .option('--json', 'JSON output')
    .action(async (options: { json?: boolean }) => {
      await withTransport(globals(), io, async (transport) => {
        const letters =
          transport.deadLetters === undefined ? undefined : await listAll(transport.deadLetters);
        const perGroup: Record<string, number> = {};
        for (const d of letters ?? []) perGroup[d.group] = (perGroup[d.group] ?? 0) + 1;
        const notes = [
          'topics and groups: the Transport interface cannot list them; not shown',
          'lag: consumerLag() reports only the subscriptions of the process asking, and this CLI runs none; not shown',
        ];
        const status = {
          transport: transport.name,
          capabilities: transport.capabilities,
          deadLetters:
            letters === undefined
              ? 'not kept by this transport'
              : { total: letters.length, perGroup, errorGroups: groupDeadLetters(letters).length },
          notes,
        };
        if (options.json === true) {
          io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        const caps = Object.entries(transport.capabilities)
          .map(([k, v]) => `${k}=${v ? 'yes' : 'no'}`)
          .join(' ');
        const lines = [`transport     ${transport.name}`, `capabilities  ${caps}`];
        if (letters === undefined) lines.push('dead letters  not kept by this transport');
        else {
          lines.push(
            `dead letters  ${letters.length} in ${status.deadLetters === undefined ? 0 : groupDeadLetters(letters).length} error group(s)`,
          );
          for (const [group, count] of Object.entries(perGroup)) lines.push(`  ${group}: ${count}`);
        }
        lines.push(...notes.map((n) => `note: ${n}`));
        io.stdout.write(`${lines.join('\n')}\n`);
      });
    });

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
