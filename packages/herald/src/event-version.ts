import { ErrorCodes, HeraldError } from './errors.ts';
import type { EventDefinition } from './event-definition.ts';
import type { CloudEvent } from './message.ts';

/**
 * The CloudEvents extension attribute that carries an event's data version (an integer from 1). Herald reads the
 * version from it, not from `dataschema`, so `dataschema` can point anywhere (a schema registry, a URL).
 */
export const DATA_VERSION_ATTRIBUTE = 'dataversion';

const HERALD_DATASCHEMA = /^urn:herald:schema:[A-Za-z][A-Za-z0-9._-]*:v([1-9][0-9]*)$/;

/** The current version of a definition's data: its `version`, else 1. */
export function definitionVersion(definition: EventDefinition): number {
  return definition.version ?? 1;
}

/** The `dataschema` URI of `version` of a definition: its own `dataschema(version)`, else Herald's URN. */
export function dataschemaOf(definition: EventDefinition, version = definitionVersion(definition)): string {
  return definition.dataschema?.(version) ?? `urn:herald:schema:${definition.type}:v${version}`;
}

/**
 * The data version an event declares: its `dataversion` attribute, else the version in a Herald `dataschema`
 * URN, else 1 (events published before versioning, and plain JSON bodies, are version 1). `undefined` when
 * `dataversion` is present but not a positive integer.
 */
export function eventVersion(event: CloudEvent): number | undefined {
  const declared = event.extensions?.[DATA_VERSION_ATTRIBUTE];
  if (declared !== undefined) return /^[1-9][0-9]{0,8}$/.test(declared) ? Number(declared) : undefined;
  const fromSchema = event.dataschema === undefined ? undefined : HERALD_DATASCHEMA.exec(event.dataschema);
  return fromSchema ? Number(fromSchema[1]) : 1;
}

function unknownVersion(
  definition: EventDefinition,
  message: string,
  details: Record<string, unknown>,
  cause?: unknown,
): HeraldError {
  return new HeraldError(ErrorCodes.UNKNOWN_VERSION, `${definition.type}: ${message}`, {
    permanent: true,
    cause,
    details: { type: definition.type, current: definitionVersion(definition), ...details },
  });
}

/**
 * The event's data as the definition's current version: as is when it is current, else through the
 * definition's upcasters, in order. Throws a permanent `HERALD_UNKNOWN_VERSION` when the version is newer than
 * the definition's, malformed, or has no upcaster path (dead-letter reason `unknown-version`), and when an
 * upcaster throws (reason `upcast`). The result is not validated: validation comes next.
 */
export function upcastData(definition: EventDefinition, event: CloudEvent): unknown {
  const current = definitionVersion(definition);
  const version = eventVersion(event);
  if (version === undefined) {
    const declared = event.extensions?.[DATA_VERSION_ATTRIBUTE];
    throw unknownVersion(definition, `dataversion "${declared}" is not a version`, {
      reason: 'unknown-version',
      version: declared,
    });
  }
  if (version === current) return event.data;
  if (version > current) {
    throw unknownVersion(
      definition,
      `version ${version} is newer than this consumer's version ${current}: deploy a consumer that knows it, then replay`,
      { reason: 'unknown-version', version },
    );
  }
  let value = event.data;
  for (let from = version; from < current; from++) {
    const upcaster = definition.upcasters?.[from];
    if (upcaster === undefined) {
      throw unknownVersion(
        definition,
        `version ${version} cannot be read: no upcaster from version ${from} to ${from + 1}`,
        { reason: 'unknown-version', version },
      );
    }
    try {
      value = upcaster(value);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw unknownVersion(
        definition,
        `the upcaster from version ${from} to ${from + 1} threw: ${why}`,
        {
          reason: 'upcast',
          version,
        },
        cause,
      );
    }
  }
  return value;
}
