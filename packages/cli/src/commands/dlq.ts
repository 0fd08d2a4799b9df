import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DeadLetter } from '@herald/core';
import {
  contracts,
  deadLetterQueue,
  ExitCodes,
  parseJson,
  positiveInteger,
  positiveNumber,
  UsageError,
  withTransport,
  type GlobalOptions,
  type Io,
} from '../cli-context.ts';
import {
  decodeData,
  DEFAULT_MAX_REPLAYS,
  discardDeadLetters,
  editAndReplay,
  groupDeadLetters,
  idsOfErrorGroup,
  listAll,
  replayCount,
  replayDeadLetters,
  type ReplayReport,
} from '../dead-letter-ops.ts';
import { groupScope, listScopedDeadLetters, UNLISTABLE_DEAD_LETTERS } from '../group-scope.ts';
import { progressBar } from '../progress.ts';

type Globals = () => GlobalOptions;

/** Adds `dlq list|show|replay|edit|discard` to `program`. Each action resolves to the exit code. */
export function addDlqCommands(
  program: Command,
  globals: Globals,
  io: Io,
  exit: (code: number) => void,
): void {
  const dlq = program
    .command('dlq')
    .description('operate the dead-letter queues: list, show, replay, edit, discard');

  dlq
    .command('list')
    .description('dead letters grouped by consumer group and error (class + normalised message)')
    .option(
      '--group <group>',
      'only this consumer group (repeatable; default: every group, or on rabbitmq the groups --contracts names)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option('--topic <topic>', 'only this topic')
    .option('--all', 'list every dead letter instead of the error groups')
    .option('--json', 'JSON output')
    .addHelpText(
      'after',
      `
RabbitMQ cannot enumerate its dead-letter queues (AMQP has no "list queues"): there, name the groups with
--group, or give --contracts naming them (an exported object of { group: "..." } entries, as the shop's
SERVICES). SQS lists every <group> dead-letter queue under its prefix (needs sqs:ListQueues).`,
    )
    .action(async (options: { group: string[]; topic?: string; all?: boolean; json?: boolean }) => {
      await withTransport(globals(), io, async (transport) => {
        const queue = deadLetterQueue(transport, globals(), io);
        // Where the transport can enumerate its queues, only --group narrows the listing (not --contracts).
        const scope =
          options.group.length > 0 || UNLISTABLE_DEAD_LETTERS[transport.name] !== undefined
            ? await groupScope(options.group, globals(), io)
            : { groups: [], from: undefined };
        if (scope.from === '--contracts') {
          io.stderr.write(`herald: note: listing the groups --contracts names: ${scope.groups.join(', ')}\n`);
        }
        const letters = await listScopedDeadLetters(queue, transport.name, scope, options.topic);
        if (options.all === true) {
          if (options.json === true) io.stdout.write(`${JSON.stringify(letters.map(summary), null, 2)}\n`);
          else if (letters.length === 0) io.stdout.write('No dead letters.\n');
          else for (const d of letters) io.stdout.write(`${letterLine(d)}\n`);
          return;
        }
        const groups = groupDeadLetters(letters);
        if (options.json === true) {
          io.stdout.write(`${JSON.stringify(groups, null, 2)}\n`);
          return;
        }
        if (groups.length === 0) {
          io.stdout.write('No dead letters.\n');
          return;
        }
        for (const g of groups) {
          io.stdout.write(
            `${g.key}  ${g.count} × ${g.errorName}${g.errorCode === undefined ? '' : ` [${g.errorCode}]`}: ${g.message}\n` +
              `            group ${g.group}, topic ${g.topics.join(', ')}, type ${g.types.join(', ') || '?'}, ` +
              `reason ${g.reasons.join(', ')}\n` +
              `            first ${g.firstSeen}, last ${g.lastSeen}\n`,
          );
        }
        io.stdout.write(
          `${letters.length} dead letter(s) in ${groups.length} error group(s). Replay a group: herald dlq replay --error-group <key>\n`,
        );
      });
    });

  dlq
    .command('show')
    .description('one dead letter: envelope, headers, data, failure with its stack')
    .argument('<id>', 'the dead letter id (from dlq list --all)')
    .option('--json', 'JSON output')
    .action(async (id: string, options: { json?: boolean }) => {
      await withTransport(globals(), io, async (transport) => {
        const d = await deadLetterQueue(transport, globals(), io).get(id);
        if (d === undefined) {
          io.stderr.write(`herald: HERALD_DEAD_LETTER_NOT_FOUND: No dead letter with id ${id}\n`);
          exit(ExitCodes.failed);
          return;
        }
        const shown = {
          ...summary(d),
          attributes: d.record.attributes,
          data: decodeData(d),
          failure: d.failure,
        };
        if (options.json === true) {
          io.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
          return;
        }
        const lines = [
          `id            ${d.id}`,
          `group         ${d.group}`,
          `topic         ${d.record.topic} (partition ${d.partition}, offset ${d.offset})`,
          `key           ${d.record.key ?? '(none)'}`,
          `dead-lettered ${d.deadLetteredAt}`,
          `replays       ${replayCount(d)}`,
          '',
          'attributes:',
          ...Object.entries(d.record.attributes).map(([k, v]) => `  ${k}: ${v}`),
          '',
          'data:',
          indent(JSON.stringify(shown.data, null, 2)),
          '',
          `failure: ${d.failure.reason} after ${d.failure.attempts} attempt(s)`,
          `  ${d.failure.error.name}${d.failure.error.code === undefined ? '' : ` [${d.failure.error.code}]`}: ${d.failure.error.message}`,
          ...(d.failure.error.stack === undefined ? [] : ['', 'stack:', indent(d.failure.error.stack)]),
        ];
        io.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  dlq
    .command('replay')
    .description('redeliver dead letters to the group that failed (only that group), under a replay guard')
    .argument('[ids...]', 'dead letter ids')
    .option('--error-group <key>', 'every dead letter of this error group (from dlq list)')
    .option('--group <group>', 'with --all: every dead letter of this consumer group')
    .option('--all', 'with --group: replay the whole group')
    .option('--rate <n>', 'at most n replays per second', positiveNumber('--rate'))
    .option(
      '--max-replays <n>',
      `refuse events already replayed n times (default ${DEFAULT_MAX_REPLAYS})`,
      positiveInteger('--max-replays'),
    )
    .option('--json', 'JSON report')
    .action(
      async (
        ids: string[],
        options: {
          errorGroup?: string;
          group?: string;
          all?: boolean;
          rate?: number;
          maxReplays?: number;
          json?: boolean;
        },
      ) => {
        const selectors = [ids.length > 0, options.errorGroup !== undefined, options.all === true].filter(
          Boolean,
        );
        if (selectors.length !== 1) {
          throw new UsageError(
            'give dead letter ids, or --error-group <key>, or --group <group> --all (one of them)',
          );
        }
        if (options.all === true && options.group === undefined)
          throw new UsageError('--all needs --group <group>');
        await withTransport(globals(), io, async (transport) => {
          const queue = deadLetterQueue(transport, globals(), io);
          const query = options.group === undefined ? {} : { group: options.group };
          const targets =
            ids.length > 0
              ? ids
              : options.errorGroup !== undefined
                ? await idsOfErrorGroup(queue, options.errorGroup, query)
                : (await listAll(queue, query)).map((d) => d.id);
          const bar = progressBar(io.stderr);
          const abort = new AbortController();
          const onSigint = (): void => abort.abort();
          process.once('SIGINT', onSigint);
          let report: ReplayReport;
          try {
            report = await replayDeadLetters(queue, targets, {
              ...(options.rate === undefined ? {} : { ratePerSecond: options.rate }),
              ...(options.maxReplays === undefined ? {} : { maxReplays: options.maxReplays }),
              onProgress: (p) => bar.update(p),
              signal: abort.signal,
            });
          } finally {
            process.off('SIGINT', onSigint);
            bar.done();
          }
          printReport(report, options.maxReplays ?? DEFAULT_MAX_REPLAYS, options.json === true, io);
          if (report.refused.length + report.failed.length + report.skipped.length > 0)
            exit(ExitCodes.failed);
        });
      },
    );

  dlq
    .command('edit')
    .description(
      "change a dead letter's data (validated against its event's schema when known), then replay it",
    )
    .argument('<id>', 'the dead letter id')
    .option('--data <json>', 'the new data, as JSON')
    .option('--editor', 'edit the data in $VISUAL / $EDITOR')
    .option(
      '--max-replays <n>',
      `refuse an event already replayed n times (default ${DEFAULT_MAX_REPLAYS})`,
      positiveInteger('--max-replays'),
    )
    .option('--json', 'JSON report')
    .action(
      async (
        id: string,
        options: { data?: string; editor?: boolean; maxReplays?: number; json?: boolean },
      ) => {
        if ((options.data === undefined) === (options.editor !== true)) {
          throw new UsageError('give exactly one of --data <json> or --editor');
        }
        const definitions = await contracts(globals(), io);
        await withTransport(globals(), io, async (transport) => {
          const queue = deadLetterQueue(transport, globals(), io);
          const d = await queue.get(id);
          if (d === undefined) {
            io.stderr.write(`herald: HERALD_DEAD_LETTER_NOT_FOUND: No dead letter with id ${id}\n`);
            exit(ExitCodes.failed);
            return;
          }
          const text = options.data ?? editInEditor(JSON.stringify(decodeData(d), null, 2), io);
          const data = parseJson(options.data === undefined ? 'the edited data' : '--data', text);
          const type = d.record.attributes.type;
          const definition = type === undefined ? undefined : definitions.get(type);
          if (definition === undefined) {
            io.stderr.write(
              `herald: note: ${type ?? 'this event'} is not among the known event definitions (--contracts / HERALD_CONTRACTS); the data is not validated\n`,
            );
          }
          const report = await editAndReplay(queue, id, data, {
            definition,
            ...(options.maxReplays === undefined ? {} : { maxReplays: options.maxReplays }),
          });
          printReport(report, options.maxReplays ?? DEFAULT_MAX_REPLAYS, options.json === true, io);
          if (report.replayed.length !== 1) exit(ExitCodes.failed);
        });
      },
    );

  dlq
    .command('discard')
    .description('delete dead letters for good')
    .argument('[ids...]', 'dead letter ids')
    .option('--error-group <key>', 'every dead letter of this error group')
    .action(async (ids: string[], options: { errorGroup?: string }) => {
      if (ids.length > 0 === (options.errorGroup !== undefined)) {
        throw new UsageError('give dead letter ids or --error-group <key> (one of them)');
      }
      await withTransport(globals(), io, async (transport) => {
        const queue = deadLetterQueue(transport, globals(), io);
        const targets =
          options.errorGroup === undefined ? ids : await idsOfErrorGroup(queue, options.errorGroup);
        const result = await discardDeadLetters(queue, targets);
        for (const id of result.discarded) io.stdout.write(`discarded ${id}\n`);
        for (const f of result.failed)
          io.stderr.write(`herald: ${f.id}: ${f.error.code ?? f.error.name}: ${f.error.message}\n`);
        if (result.failed.length > 0) exit(ExitCodes.failed);
      });
    });
}

function summary(d: DeadLetter): Record<string, unknown> {
  return {
    id: d.id,
    group: d.group,
    topic: d.record.topic,
    key: d.record.key,
    type: d.record.attributes.type,
    eventId: d.record.attributes.id,
    partition: d.partition,
    offset: d.offset,
    deadLetteredAt: d.deadLetteredAt,
    replays: replayCount(d),
    reason: d.failure.reason,
    attempts: d.failure.attempts,
    error: { name: d.failure.error.name, code: d.failure.error.code, message: d.failure.error.message },
  };
}

function letterLine(d: DeadLetter): string {
  const e = d.failure.error;
  return `${d.id}  ${d.deadLetteredAt}  ${d.group}  ${d.record.topic}  ${d.record.attributes.type ?? '?'}  key=${d.record.key ?? '-'}  replays=${replayCount(d)}  ${e.name}: ${e.message}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function printReport(report: ReplayReport, maxReplays: number, json: boolean, io: Io): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  for (const r of report.replayed) io.stdout.write(`replayed ${r}\n`);
  for (const r of report.refused) {
    io.stderr.write(
      `herald: refused ${r.id}: already replayed ${r.replays} time(s) (--max-replays ${maxReplays}); fix the cause, edit it, or raise --max-replays\n`,
    );
  }
  for (const f of report.failed)
    io.stderr.write(`herald: failed ${f.id}: ${f.error.code ?? f.error.name}: ${f.error.message}\n`);
  if (report.skipped.length > 0)
    io.stderr.write(`herald: interrupted, ${report.skipped.length} not replayed\n`);
  io.stdout.write(
    `${report.replayed.length} replayed, ${report.refused.length} refused, ${report.failed.length} failed\n`,
  );
}

function editInEditor(initial: string, io: Io): string {
  const editor = io.env.VISUAL || io.env.EDITOR;
  if (editor === undefined || editor === '') throw new UsageError('--editor needs $VISUAL or $EDITOR');
  const dir = mkdtempSync(join(tmpdir(), 'herald-edit-'));
  const file = join(dir, 'data.json');
  try {
    writeFileSync(file, `${initial}\n`);
    // The editor runs with the CLI's environment (io.env), as the rest of the command reads it.
    const result = spawnSync(`${editor} "${file}"`, { shell: true, stdio: 'inherit', env: io.env });
    if (result.status !== 0)
      throw new UsageError(`the editor exited with ${String(result.status ?? result.signal)}`);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
