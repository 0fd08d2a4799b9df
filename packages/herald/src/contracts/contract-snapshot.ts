import { payloadJsonSchema } from '../asyncapi/payload-schema.ts';
import { configError, ErrorCodes, HeraldError } from '../errors.ts';
import type { EventDefinition } from '../event-definition.ts';
import { definitionVersion } from '../event-version.ts';

/** The format number of the snapshots this Herald writes and reads. */
export const CONTRACT_SNAPSHOT_FORMAT = 1;

/** A JSON Schema (draft-07) as recorded in a snapshot: a plain JSON object, or a boolean schema. */
export type RecordedSchema = Readonly<Record<string, unknown>> | boolean;

/** What a snapshot records of one event type: its topic and the JSON Schema of each version still readable. */
export interface RecordedContract {
  readonly topic: string;
  /** By version number (`"1"`, `"2"`...): the JSON Schema of the data of that version. */
  readonly versions: Readonly<Record<string, RecordedSchema>>;
}

/**
 * A committed record of the contracts: per CloudEvents type its topic and the JSON Schema of the data of each
 * version (the current one and the older ones events of which may still exist). `herald contracts check`
 * compares the definitions with it.
 */
export interface ContractSnapshot {
  readonly format: typeof CONTRACT_SNAPSHOT_FORMAT;
  /** By CloudEvents type. */
  readonly contracts: Readonly<Record<string, RecordedContract>>;
}

/** The definitions by type; `HERALD_CONFIG` when two share a type. */
export function definitionsByType(definitions: Iterable<EventDefinition>): Map<string, EventDefinition> {
  const byType = new Map<string, EventDefinition>();
  for (const definition of definitions) {
    const other = byType.get(definition.type);
    if (other !== undefined && other !== definition) {
      throw configError('definitions', 'one definition per event type', definition.type);
    }
    byType.set(definition.type, definition);
  }
  return byType;
}

/** True when upcasters lead from `version` to the definition's current version (every step present). */
export function readableVersion(definition: EventDefinition, version: number): boolean {
  for (let k = version; k < definitionVersion(definition); k++) {
    if (typeof definition.upcasters?.[k] !== 'function') return false;
  }
  return version <= definitionVersion(definition);
}

/** A copy of a JSON value whose object keys are sorted at every level, so the same schema prints the same. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return Object.fromEntries(entries.map(([key, child]) => [key, sortedKeys(child)]));
}

/**
 * The snapshot of `definitions` now: for each type its topic, the JSON Schema of its current version (the
 * input side, as {@link payloadJsonSchema} gives it) and, from `previous`, the older versions that the
 * definition's upcasters can still bring to the current one (the history old events are checked against). A
 * version without that path, a type no longer defined, and a version above the current are not carried over:
 * writing the snapshot accepts them. Types are in name order and schema keys sorted, so unchanged contracts
 * give an identical file. Throws `HERALD_UNSUPPORTED` for a schema that cannot give JSON Schema.
 */
export function contractSnapshot(
  definitions: Iterable<EventDefinition>,
  previous?: ContractSnapshot,
): ContractSnapshot {
  const contracts: Record<string, RecordedContract> = {};
  const byType = definitionsByType(definitions);
  for (const type of [...byType.keys()].sort()) {
    const definition = byType.get(type)!;
    const current = definitionVersion(definition);
    const versions: Record<string, RecordedSchema> = {};
    for (const [version, schema] of Object.entries(previous?.contracts[type]?.versions ?? {})) {
      const n = Number(version);
      if (n < current && readableVersion(definition, n)) versions[version] = schema;
    }
    versions[String(current)] = sortedKeys(payloadJsonSchema(definition)) as RecordedSchema;
    contracts[type] = { topic: definition.topic, versions };
  }
  return { format: CONTRACT_SNAPSHOT_FORMAT, contracts };
}

/**
 * The snapshot as the file holds it: JSON, two-space indented, a trailing newline, keys in a stable order
 * (`format`, `contracts`; types by name; `topic`, `versions`; versions by number; schema keys sorted), so a
 * change of contract is a small diff.
 */
export function formatContractSnapshot(snapshot: ContractSnapshot): string {
  const contracts: Record<string, unknown> = {};
  for (const type of Object.keys(snapshot.contracts).sort()) {
    const recorded = snapshot.contracts[type]!;
    const versions: Record<string, unknown> = {};
    for (const version of Object.keys(recorded.versions).sort((a, b) => Number(a) - Number(b))) {
      versions[version] = sortedKeys(recorded.versions[version]);
    }
    contracts[type] = { topic: recorded.topic, versions };
  }
  return `${JSON.stringify({ format: snapshot.format, contracts }, null, 2)}\n`;
}

function invalid(source: string, why: string): HeraldError {
  return new HeraldError(ErrorCodes.CONFIG, `The contract snapshot ${source} is not valid: ${why}`, {
    permanent: true,
    details: { snapshot: source },
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a snapshot from its text (as {@link formatContractSnapshot} writes it). Throws `HERALD_CONFIG` naming
 * `source` (a file name, for the message) when the text is not JSON or not a snapshot of a format this Herald
 * reads.
 */
export function parseContractSnapshot(text: string, source = 'snapshot'): ContractSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(source, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(parsed)) throw invalid(source, 'not a JSON object');
  if (parsed.format !== CONTRACT_SNAPSHOT_FORMAT) {
    throw invalid(source, `format ${JSON.stringify(parsed.format)}, this Herald reads format 1`);
  }
  if (!isObject(parsed.contracts)) throw invalid(source, '"contracts" is not an object');
  for (const [type, recorded] of Object.entries(parsed.contracts)) {
    if (!isObject(recorded) || typeof recorded.topic !== 'string' || !isObject(recorded.versions)) {
      throw invalid(source, `${type} is not { "topic": string, "versions": object }`);
    }
    for (const [version, schema] of Object.entries(recorded.versions)) {
      if (!/^[1-9][0-9]*$/.test(version)) throw invalid(source, `${type} has version "${version}"`);
      if (!isObject(schema) && typeof schema !== 'boolean') {
        throw invalid(source, `${type} version ${version} is not a JSON Schema`);
      }
    }
  }
  return parsed as unknown as ContractSnapshot;
}
