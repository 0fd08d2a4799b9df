import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compareContracts } from '../contracts/compare-contracts.ts';
import {
  describeContractFinding,
  incompatibleContractsError,
  type ContractFinding,
} from '../contracts/contract-finding.ts';
import {
  contractSnapshot,
  formatContractSnapshot,
  parseContractSnapshot,
  type ContractSnapshot,
} from '../contracts/contract-snapshot.ts';
import type { EventDefinition } from '../event-definition.ts';

/** Options of {@link assertContractsCompatible}. */
export interface ContractCompatibilityOptions {
  /**
   * Also fail when the snapshot is compatible but not what the snapshot command would write now (a compatible
   * change not recorded yet), so the committed snapshot never drifts from the contracts. Default false.
   */
  readonly upToDate?: boolean;
  /** The command the messages tell the developer to run. Default `herald contracts snapshot`. */
  readonly snapshotCommand?: string;
}

/** The assertion {@link assertContractsCompatible} fails with: the message lists each breaking field. */
export class ContractCompatibilityError extends AssertionError {
  /** Every finding of the comparison, breaking first. */
  readonly findings: readonly ContractFinding[];

  constructor(message: string, findings: readonly ContractFinding[]) {
    super({ message, operator: 'assertContractsCompatible' });
    this.name = 'ContractCompatibilityError';
    this.findings = findings;
  }
}

function load(
  snapshot: string | URL,
  command: string,
): { parsed: ContractSnapshot; text: string; name: string } {
  const name = snapshot instanceof URL ? fileURLToPath(snapshot) : snapshot;
  let text: string;
  try {
    text = readFileSync(snapshot, 'utf8');
  } catch (error) {
    throw new ContractCompatibilityError(
      `No contract snapshot at ${name} (${(error as NodeJS.ErrnoException).code ?? String(error)}): run \`${command}\` to record the contracts, and commit the file`,
      [],
    );
  }
  return { parsed: parseContractSnapshot(text, name), text, name };
}

/**
 * Asserts that `definitions` are compatible with a committed contract snapshot (a file path or URL, as `herald
 * contracts snapshot` writes it, or the snapshot itself): throws a {@link ContractCompatibilityError} (an
 * `AssertionError`) naming each breaking change with its type, version and field path, when a snapshot file is
 * missing, and (with `upToDate`) when the snapshot lags behind compatible changes. Returns the findings, none of
 * them breaking, for tests that look further.
 */
export function assertContractsCompatible(
  definitions: Iterable<EventDefinition>,
  snapshot: string | URL | ContractSnapshot,
  options: ContractCompatibilityOptions = {},
): readonly ContractFinding[] {
  const command = options.snapshotCommand ?? 'herald contracts snapshot';
  const list = [...definitions];
  const file = typeof snapshot === 'string' || snapshot instanceof URL ? load(snapshot, command) : undefined;
  const recorded = file?.parsed ?? (snapshot as ContractSnapshot);
  const name = file?.name ?? 'the snapshot';
  const findings = compareContracts(recorded, list);
  if (findings.some((f) => f.breaking)) {
    const error = incompatibleContractsError(findings, name);
    throw new ContractCompatibilityError(`${error.code}: ${error.message}`, findings);
  }
  if (options.upToDate === true) {
    const now = formatContractSnapshot(contractSnapshot(list, recorded));
    if (now !== (file?.text ?? formatContractSnapshot(recorded))) {
      const changes = findings.map((f) => `  ${describeContractFinding(f)}`);
      throw new ContractCompatibilityError(
        `The contracts are compatible with ${name}, but it is not up to date: run \`${command}\` and commit it.\n` +
          (changes.length > 0
            ? `Changes not recorded yet:\n${changes.join('\n')}`
            : 'No contract changed: the file is not as the command writes it.'),
        findings,
      );
    }
  }
  return findings;
}
