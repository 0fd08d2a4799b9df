import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  compareContracts,
  contractSnapshot,
  describeContractFinding,
  formatContractSnapshot,
  incompatibleContractsError,
  parseContractSnapshot,
  type ContractSnapshot,
  type EventDefinition,
} from '@herald/core';
import { contracts, UsageError, type GlobalOptions, type Io } from '../cli-context.ts';

/** Where `contracts snapshot` writes and `contracts check` reads, relative to the cwd. */
export const DEFAULT_SNAPSHOT_FILE = 'contracts.snapshot.json';

async function definitions(globals: GlobalOptions, io: Io, command: string): Promise<EventDefinition[]> {
  const loaded = await contracts(globals, io);
  if (loaded.size === 0) {
    throw new UsageError(
      `contracts ${command} needs the event definitions: --contracts <module> or HERALD_CONTRACTS`,
    );
  }
  return [...loaded.values()];
}

/** The snapshot file's text and contents; `undefined` when there is none. A file that is no snapshot: exit 2. */
function readSnapshot(file: string): { text: string; snapshot: ContractSnapshot } | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const text = readFileSync(file, 'utf8');
    return { text, snapshot: parseContractSnapshot(text, file) };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The snapshot command that writes `file`, for messages. */
function snapshotCommand(file: string): string {
  return `herald contracts snapshot${file === DEFAULT_SNAPSHOT_FILE ? '' : ` --out ${file}`}`;
}

/** Adds `contracts snapshot` and `contracts check` to `program`. */
export function addContractsCommands(program: Command, globals: () => GlobalOptions, io: Io): void {
  const group = program
    .command('contracts')
    .description(
      'record the event contracts (JSON Schema per type and version) and check changes against them',
    );

  group
    .command('snapshot')
    .description(
      'write the contracts of --contracts to a snapshot file to commit; keeps the older versions an existing file records while upcasters still reach them',
    )
    .option('--out <file>', 'the snapshot file', DEFAULT_SNAPSHOT_FILE)
    .option('--accept-breaking', 'write it even when the contracts break the existing snapshot')
    .action(async (options: { out: string; acceptBreaking?: boolean }) => {
      const list = await definitions(globals(), io, 'snapshot');
      const existing = readSnapshot(options.out);
      if (existing !== undefined) {
        const findings = compareContracts(existing.snapshot, list);
        const breaking = findings.filter((f) => f.breaking);
        if (breaking.length > 0 && options.acceptBreaking !== true) {
          throw incompatibleContractsError(findings, options.out);
        }
        for (const f of breaking)
          io.stderr.write(`herald: note: accepted breaking change: ${describeContractFinding(f)}\n`);
      }
      const snapshot = contractSnapshot(list, existing?.snapshot);
      const text = formatContractSnapshot(snapshot);
      const types = Object.values(snapshot.contracts);
      const versions = types.reduce((n, c) => n + Object.keys(c.versions).length, 0);
      if (text === existing?.text) {
        io.stdout.write(
          `${options.out} is up to date: ${types.length} event type(s), ${versions} version(s)\n`,
        );
        return;
      }
      writeFileSync(options.out, text);
      io.stdout.write(`Wrote ${options.out}: ${types.length} event type(s), ${versions} version(s)\n`);
    });

  group
    .command('check')
    .description(
      'compare the contracts of --contracts with a committed snapshot: print every change, exit 1 naming each field when one breaks old consumers or old events',
    )
    .option('--snapshot <file>', 'the snapshot file', DEFAULT_SNAPSHOT_FILE)
    .option('--json', 'JSON output: { snapshot, compatible, upToDate, findings }')
    .addHelpText(
      'after',
      `
Breaking within a version: a required field removed or renamed, a field made required or optional, a new required
field without a default, a type narrowed or widened, an enum value removed or added, a bound tightened or
loosened. Across versions: a type removed, a topic changed, a version lowered, a missing upcaster. A new type, an
optional field added or removed on an open object, a description, and the schema of a bumped version are
reported without failing. See docs/contract-compatibility.md.`,
    )
    .action(async (options: { snapshot: string; json?: boolean }) => {
      const list = await definitions(globals(), io, 'check');
      const existing = readSnapshot(options.snapshot);
      if (existing === undefined) {
        throw new UsageError(
          `No contract snapshot at ${options.snapshot}: run \`${snapshotCommand(options.snapshot)}\` to record the contracts, and commit it`,
        );
      }
      const findings = compareContracts(existing.snapshot, list);
      const compatible = !findings.some((f) => f.breaking);
      const upToDate = formatContractSnapshot(contractSnapshot(list, existing.snapshot)) === existing.text;
      if (options.json === true) {
        const report = { snapshot: options.snapshot, compatible, upToDate, findings };
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        for (const f of findings) {
          io.stdout.write(
            `${(f.breaking ? 'BREAKING' : 'compatible').padEnd(10)} ${describeContractFinding(f)}\n`,
          );
        }
        const breaking = findings.filter((f) => f.breaking).length;
        io.stdout.write(
          findings.length === 0
            ? `The contracts match ${options.snapshot}.\n`
            : `${breaking} breaking, ${findings.length - breaking} compatible change(s) against ${options.snapshot}.\n`,
        );
      }
      if (!compatible) throw incompatibleContractsError(findings, options.snapshot);
      if (!upToDate) {
        io.stderr.write(
          `herald: note: ${options.snapshot} is not up to date with the contracts: run \`${snapshotCommand(options.snapshot)}\` to record the compatible changes\n`,
        );
      }
    });
}
