import type { StandardJSONSchemaV1 } from '@standard-schema/spec';
import { ErrorCodes, HeraldError } from '../errors.ts';
import type { EventDefinition } from '../event-definition.ts';

/** The JSON Schema dialect Herald asks schemas for: AsyncAPI's default schema format is a superset of it. */
export const PAYLOAD_SCHEMA_TARGET = 'draft-07';

/** The AsyncAPI `schemaFormat` of the payloads {@link payloadJsonSchema} returns. */
export const PAYLOAD_SCHEMA_FORMAT = 'application/schema+json;version=draft-07';

function unsupported(definition: EventDefinition, why: string, cause?: unknown): HeraldError {
  return new HeraldError(
    ErrorCodes.UNSUPPORTED,
    `The schema of ${definition.type} cannot give JSON Schema: ${why}`,
    { permanent: true, cause, details: { type: definition.type, topic: definition.topic } },
  );
}

/**
 * The JSON Schema (draft-07) of the data an event definition accepts, from the Standard JSON Schema interface
 * (`schema['~standard'].jsonSchema.input`, which zod 4.2+, ArkType and others implement). The input side is what
 * travels on the wire: it is what `publish` takes and what a consumer's validation accepts. Core imports no schema
 * library: a schema that does not implement the interface, or whose converter throws (zod refuses, for example,
 * a `z.custom` or a `z.date()`) fails with a permanent `HERALD_UNSUPPORTED` naming the event type.
 */
export function payloadJsonSchema(definition: EventDefinition): Record<string, unknown> {
  const standard = definition.schema['~standard'] as Partial<StandardJSONSchemaV1.Props>;
  const converter = standard.jsonSchema;
  if (typeof converter?.input !== 'function') {
    throw unsupported(
      definition,
      `its Standard Schema (vendor "${standard.vendor ?? 'unknown'}") does not implement the Standard JSON Schema interface (~standard.jsonSchema)`,
    );
  }
  let schema: unknown;
  try {
    schema = converter.input({ target: PAYLOAD_SCHEMA_TARGET });
  } catch (cause) {
    throw unsupported(definition, cause instanceof Error ? cause.message : String(cause), cause);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw unsupported(
      definition,
      `its converter returned ${Array.isArray(schema) ? 'an array' : typeof schema}`,
    );
  }
  // A plain JSON copy: the document must survive JSON.stringify and must not share objects with the schema.
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
