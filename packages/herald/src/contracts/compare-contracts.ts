import { payloadJsonSchema } from '../asyncapi/payload-schema.ts';
import type { EventDefinition } from '../event-definition.ts';
import { definitionVersion } from '../event-version.ts';
import type { ContractFinding } from './contract-finding.ts';
import { definitionsByType, type ContractSnapshot, type RecordedContract } from './contract-snapshot.ts';
import { compareSchemas } from './schema-compare.ts';

function versionsOf(recorded: RecordedContract): number[] {
  return Object.keys(recorded.versions)
    .map(Number)
    .sort((a, b) => a - b);
}

function compareContract(
  type: string,
  recorded: RecordedContract,
  definition: EventDefinition | undefined,
): ContractFinding[] {
  const versions = versionsOf(recorded);
  const latest = versions.at(-1) ?? 1;
  const finding = (f: Omit<ContractFinding, 'type'>): ContractFinding => ({ type, ...f });
  if (definition === undefined) {
    return [
      finding({
        version: latest,
        path: '',
        change: 'contract-removed',
        breaking: true,
        message: `${type} is no longer defined: its events (old ones in the log, new ones from producers not yet redeployed) would go unhandled`,
      }),
    ];
  }
  const current = definitionVersion(definition);
  const findings: ContractFinding[] = [];
  if (definition.topic !== recorded.topic) {
    findings.push(
      finding({
        version: current,
        path: '',
        change: 'topic-changed',
        breaking: true,
        message: `${type} moved from topic ${recorded.topic} to ${definition.topic}: consumers of ${recorded.topic} no longer receive it, and its old events stay there`,
      }),
    );
  }
  if (current < latest) {
    findings.push(
      finding({
        version: current,
        path: '',
        change: 'version-lowered',
        breaking: true,
        message: `${type} is at version ${current}, the snapshot has version ${latest}: events of version ${latest} would be dead-lettered as unknown-version`,
      }),
    );
    return findings;
  }
  const schema = payloadJsonSchema(definition);
  if (current === latest) {
    for (const change of compareSchemas(recorded.versions[String(latest)]!, schema)) {
      findings.push(finding({ version: current, ...change }));
    }
  } else {
    findings.push(
      finding({
        version: current,
        path: '',
        change: 'version-added',
        breaking: false,
        message: `${type} version ${current} is new (the snapshot has up to ${latest}): its schema may change freely, the upcasters carry older events`,
      }),
    );
    for (const change of compareSchemas(recorded.versions[String(latest)]!, schema)) {
      const message = `${change.message} (allowed: version ${current} is new, its upcasters carry version ${latest} events)`;
      findings.push(finding({ version: current, ...change, breaking: false, message }));
    }
  }
  // Every version the snapshot still records may have events about: each needs a path of upcasters to current.
  const oldest = versions[0] ?? current;
  for (let k = oldest; k < current; k++) {
    if (typeof definition.upcasters?.[k] === 'function') continue;
    findings.push(
      finding({
        version: current,
        path: `upcasters[${k}]`,
        change: 'upcaster-missing',
        breaking: true,
        message: `${type} has no upcaster from version ${k} to ${k + 1} (upcasters[${k}]): events of version ${k} and older cannot reach version ${current} and would be dead-lettered (unknown-version)`,
      }),
    );
  }
  return findings;
}

/**
 * The differences between a committed {@link ContractSnapshot} and the definitions now, breaking findings first
 * (then by type, as found). Breaking: a type that is gone, a topic that changed, a version lower than the
 * snapshot's, a missing upcaster between a recorded version and the current one, and, within an unchanged
 * version, any change of what the data accepts except an optional property added or removed on an open object
 * (docs/contract-compatibility.md has every rule and why). A new type, a bumped version's schema changes, and
 * annotation changes are reported as not breaking. Throws `HERALD_UNSUPPORTED` for a schema that cannot give
 * JSON Schema.
 */
export function compareContracts(
  snapshot: ContractSnapshot,
  definitions: Iterable<EventDefinition>,
): ContractFinding[] {
  const byType = definitionsByType(definitions);
  const findings: ContractFinding[] = [];
  const types = [...new Set([...Object.keys(snapshot.contracts), ...byType.keys()])].sort();
  for (const type of types) {
    const recorded = snapshot.contracts[type];
    const definition = byType.get(type);
    if (recorded !== undefined) {
      findings.push(...compareContract(type, recorded, definition));
    } else if (definition !== undefined) {
      findings.push({
        type,
        version: definitionVersion(definition),
        path: '',
        change: 'contract-added',
        breaking: false,
        message: `${type} is new (topic ${definition.topic}): no consumer or event depends on it yet`,
      });
    }
  }
  return [...findings.filter((f) => f.breaking), ...findings.filter((f) => !f.breaking)];
}
