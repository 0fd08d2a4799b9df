import type { Command } from 'commander';
import type { ConsumerLag, DeadLetter } from '@herald/core';
import { connectWithDetails } from '../connect.ts';
import { contracts, describe, type GlobalOptions, type Io } from '../cli-context.ts';
import { groupDeadLetters } from '../dead-letter-ops.ts';
import { readGroupLag, type LagReport } from '../group-lag.ts';
import { groupScope, listScopedDeadLetters, UNLISTABLE_DEAD_LETTERS } from '../group-scope.ts';

interface StatusOptions {
  group: string[];
  topic: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

type DeadLetterStatus =
  { total: number; perGroup: Record<string, number>; errorGroups: number } | { notReported: string };

function lagLines(lags: readonly ConsumerLag[]): string[] {
  const byPair = new Map<string, ConsumerLag[]>();
  for (const lag of lags) {
    const key = `${lag.group}\0${lag.topic}`;
    byPair.set(key, [...(byPair.get(key) ?? []), lag]);
  }
  return [...byPair.values()].map((list) => {
    const total = list.reduce((n, l) => n + l.lag, 0);
    const parts = list.map((l) => `p${l.partition}=${l.lag}`).join(' ');
    return `  ${list[0]!.group}  ${list[0]!.topic}  total ${total}  (${parts})`;
  });
}

/** Adds `status` to `program`. */
export function addStatusCommand(program: Command, globals: () => GlobalOptions, io: Io): void {
  program
    .command('status')
    .description(
      'the transport, what it can do, dead-letter counts per group, and lag per group and partition',
    )
    .option(
      '--group <group>',
      'a consumer group to report on (repeatable; default: the groups --contracts names)',
      collect,
      [],
    )
    .option(
      '--topic <topic>',
      'a topic to report lag on (repeatable; default: the topics of --contracts)',
      collect,
      [],
    )
    .option('--json', 'JSON output')
    .addHelpText(
      'after',
      `
Groups and topics cannot be listed through the Transport interface: status reports on those named by --group and
--topic, or found in --contracts / HERALD_CONTRACTS (the event definitions' topics; the groups of an exported
object of { group: "..." } entries, as the shop's SERVICES). Lag comes from the broker's own bookkeeping (sqlite
offsets, Kafka committed offsets, NATS consumer pending counts), never by joining a group; RabbitMQ and SQS keep
no positions, so their lag is "not reported".`,
    )
    .action(async (options: StatusOptions) => {
      const g = globals();
      const scope = await groupScope(options.group, g, io);
      const topics =
        options.topic.length > 0
          ? [...new Set(options.topic)]
          : [...new Set([...(await contracts(g, io)).values()].map((d) => d.topic))];
      const connected = await connectWithDetails({
        broker: g.broker,
        env: io.env,
        onError: (error) => io.stderr.write(`herald: transport error: ${describe(error)}\n`),
      });
      try {
        const { transport } = connected;
        let deadLetters: DeadLetterStatus;
        if (transport.deadLetters === undefined) {
          deadLetters = { notReported: `not kept by ${transport.name}` };
        } else if (scope.groups.length === 0 && UNLISTABLE_DEAD_LETTERS[transport.name] !== undefined) {
          deadLetters = {
            notReported: `not reported by ${transport.name} without --group: it cannot list its dead-letter queues`,
          };
        } else {
          const letters: DeadLetter[] = await listScopedDeadLetters(
            transport.deadLetters,
            transport.name,
            scope,
          );
          const perGroup: Record<string, number> = Object.fromEntries(
            scope.groups.map((group) => [group, 0]),
          );
          for (const d of letters) perGroup[d.group] = (perGroup[d.group] ?? 0) + 1;
          deadLetters = { total: letters.length, perGroup, errorGroups: groupDeadLetters(letters).length };
        }
        const lag: LagReport | { reported: false; reason: string } =
          scope.groups.length === 0 || topics.length === 0
            ? {
                reported: false,
                reason:
                  'give --group and --topic (or --contracts naming them): the Transport interface cannot list groups or topics',
              }
            : await readGroupLag({
                transport: transport.name,
                url: connected.url,
                topicPrefix: connected.topicPrefix,
                groups: scope.groups,
                topics,
              });
        const status = {
          transport: transport.name,
          capabilities: transport.capabilities,
          groups: scope.groups,
          groupsFrom: scope.from ?? null,
          topics,
          deadLetters,
          lag: lag.reported
            ? { perPartition: lag.lags, ...(lag.note === undefined ? {} : { note: lag.note }) }
            : { notReported: lag.reason },
        };
        if (options.json === true) {
          io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        const caps = Object.entries(transport.capabilities)
          .map(([k, v]) => `${k}=${v ? 'yes' : 'no'}`)
          .join(' ');
        const lines = [
          `transport     ${transport.name}`,
          `capabilities  ${caps}`,
          `groups        ${scope.groups.join(', ') || '(none named)'}${scope.from === undefined ? '' : ` (from ${scope.from})`}`,
          `topics        ${topics.join(', ') || '(none named)'}`,
        ];
        if ('notReported' in deadLetters) lines.push(`dead letters  ${deadLetters.notReported}`);
        else {
          lines.push(`dead letters  ${deadLetters.total} in ${deadLetters.errorGroups} error group(s)`);
          for (const [group, count] of Object.entries(deadLetters.perGroup))
            lines.push(`  ${group}: ${count}`);
        }
        if (!lag.reported) lines.push(`lag           ${lag.reason}`);
        else if (lag.lags.length === 0)
          lines.push('lag           no position of these groups on these topics');
        else {
          lines.push('lag           per group and topic (records not yet committed, per partition)');
          lines.push(...lagLines(lag.lags));
          // Named pairs without a position are shown; the contracts' every-group-by-every-topic pairs are not.
          const named = scope.from === '--group' || options.topic.length > 0;
          for (const group of named ? scope.groups : []) {
            for (const topic of topics) {
              if (!lag.lags.some((l) => l.group === group && l.topic === topic))
                lines.push(`  ${group}  ${topic}  no position (the group never read this topic)`);
            }
          }
          if (lag.note !== undefined) lines.push(`  note: ${lag.note}`);
        }
        io.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await connected.transport.close({ timeoutMs: 2000 });
      }
    });
}
