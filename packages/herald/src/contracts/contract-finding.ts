import { ErrorCodes, HeraldError } from '../errors.ts';

/**
 * What changed, as a stable identifier. Which of these are breaking, and why, is in
 * docs/contract-compatibility.md; {@link ContractFinding.breaking} says it for each finding.
 */
export type ContractChange =
  // Between versions and types.
  | 'contract-removed'
  | 'contract-added'
  | 'topic-changed'
  | 'version-lowered'
  | 'version-added'
  | 'upcaster-missing'
  // Within one version's schema.
  | 'property-removed'
  | 'property-added'
  | 'optional-property-removed'
  | 'optional-property-added'
  | 'made-required'
  | 'made-optional'
  | 'type-narrowed'
  | 'type-widened'
  | 'type-changed'
  | 'enum-value-removed'
  | 'enum-value-added'
  | 'const-changed'
  | 'constraint-tightened'
  | 'constraint-loosened'
  | 'constraint-changed'
  | 'union-member-removed'
  | 'union-member-added'
  | 'union-keyword-changed'
  | 'additional-properties-closed'
  | 'additional-properties-opened'
  | 'items-changed'
  | 'schema-changed'
  | 'description-changed'
  | 'default-changed'
  | 'annotation-changed';

/** One difference between a contract snapshot and the definitions. */
export interface ContractFinding {
  /** The CloudEvents type. */
  readonly type: string;
  /** The version the finding is about (the definition's current one, or the snapshot's for a removed type). */
  readonly version: number;
  /**
   * The field, as a path into the data: `items[].sku` (`[]` an array's items, `[0]` a tuple's first, `.*` a
   * record's values); `""` for the data as a whole or the contract itself; `upcasters[2]` for a missing
   * upcaster.
   */
  readonly path: string;
  readonly change: ContractChange;
  /** True when old consumers or old events break: `herald contracts check` fails. */
  readonly breaking: boolean;
  /** What changed and why it breaks or does not, for people. */
  readonly message: string;
}

/** One line for a finding: `OrderPlaced v1 items[].sku: <message>`. */
export function describeContractFinding(finding: ContractFinding): string {
  const where = finding.path === '' ? '' : ` ${finding.path}`;
  return `${finding.type} v${finding.version}${where}: ${finding.message}`;
}

/**
 * The `HERALD_INCOMPATIBLE_CONTRACT` error (permanent) for the breaking ones of `findings`, checked `against` a
 * snapshot (a file name, for the message): it names each breaking field. `details.findings` holds them all.
 */
export function incompatibleContractsError(
  findings: readonly ContractFinding[],
  against: string,
): HeraldError {
  const breaking = findings.filter((f) => f.breaking);
  const lines = breaking.map((f) => `  ${describeContractFinding(f)}`);
  return new HeraldError(
    ErrorCodes.INCOMPATIBLE_CONTRACT,
    `${breaking.length} breaking contract change(s) against ${against}: ` +
      `${breaking.map((f) => `${f.type} v${f.version} ${f.path || '(contract)'} (${f.change})`).join(', ')}\n` +
      `${lines.join('\n')}\n` +
      'Keep the old shape, or bump the version with an upcaster (docs/versioning.md); to accept a break ' +
      'deliberately, write the snapshot again with --accept-breaking.',
    { permanent: true, details: { snapshot: against, findings: breaking } },
  );
}
