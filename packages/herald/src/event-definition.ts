import type { StandardSchemaV1 } from '@standard-schema/spec';
import { configError, ErrorCodes, HeraldError } from './errors.ts';
import { checkName } from './names.ts';

/**
 * A typed event contract: its CloudEvents `type`, the topic it is published to, how to derive its partition key
 * and subject, and a Standard Schema (zod, valibot, arktype...) that validates it on both sides. The same
 * definition types `publish` and the handler.
 */
export interface EventDefinition<Schema extends StandardSchemaV1 = StandardSchemaV1> {
  // `key` and `subject` use method syntax on purpose: it lets any definition be passed where
  // `EventDefinition` (of unknown data) is expected.
  readonly type: string;
  readonly topic: string;
  readonly schema: Schema;
  /** What the event means, for people and generated documents (AsyncAPI); CommonMark. */
  readonly description?: string;
  /** Derives the partition key; events with equal keys are handled in publish order. */
  key?(data: StandardSchemaV1.InferOutput<Schema>): string;
  /** Derives the CloudEvents `subject`. Defaults to the partition key. */
  subject?(data: StandardSchemaV1.InferOutput<Schema>): string;
  /**
   * The version of this contract's data, an integer from 1 (the default). Bump it for a change old consumers or
   * old events cannot take (see docs/versioning.md): it travels in the `dataversion` extension attribute and in
   * `dataschema`, and a consumer that meets a newer version than its definition's dead-letters it
   * (`unknown-version`).
   */
  readonly version?: number;
  /**
   * Upcasters by the version they read: `upcasters[k]` turns data of version `k` into data of version `k + 1`.
   * A consumer runs them in sequence before validation, so its handler sees every older event as the current
   * version (also when replayed from a dead-letter queue or an offset). A version with no path to the current
   * one is dead-lettered (`unknown-version`).
   */
  readonly upcasters?: Readonly<Record<number, Upcaster>>;
  /**
   * The `dataschema` URI of each version, for a schema registry or published documents. Default:
   * `urn:herald:schema:<type>:v<version>`.
   */
  dataschema?(version: number): string;
}

/** Turns the data of one version into the data of the next. Throwing dead-letters the event (`upcast`). */
export type Upcaster = (data: unknown) => unknown;

/** The data type an event definition's schema accepts as input (what `publish` takes). */
export type EventInput<D extends EventDefinition> = StandardSchemaV1.InferInput<D['schema']>;
/** The data type a handler receives (the schema's output). */
export type EventData<D extends EventDefinition> = StandardSchemaV1.InferOutput<D['schema']>;

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9._-]*$/;

/**
 * Declares an event contract. Checks the type and topic names at once, so a typo fails at start-up.
 */
export function defineEvent<Schema extends StandardSchemaV1>(
  definition: EventDefinition<Schema>,
): EventDefinition<Schema> {
  if (!TYPE_PATTERN.test(definition.type)) {
    throw configError('type', 'a name of letters, digits, ".", "_" or "-"', definition.type);
  }
  checkName('topic', definition.topic);
  if (definition.description !== undefined && typeof definition.description !== 'string') {
    throw configError('description', 'a string', definition.description);
  }
  if (typeof definition.schema?.['~standard']?.validate !== 'function') {
    throw configError('schema', 'a Standard Schema (zod 4, valibot, arktype...)', typeof definition.schema);
  }
  checkVersioning(definition);
  return Object.freeze({ ...definition });
}

function checkVersioning(definition: EventDefinition): void {
  const version = definition.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw configError('version', 'an integer >= 1', definition.version);
  }
  if (definition.upcasters === undefined) return;
  if (typeof definition.upcasters !== 'object' || definition.upcasters === null) {
    throw configError('upcasters', 'an object of functions by the version they read', definition.upcasters);
  }
  for (const [from, upcaster] of Object.entries(definition.upcasters)) {
    const k = Number(from);
    if (!Number.isSafeInteger(k) || k < 1 || k >= version) {
      throw configError(
        'upcasters',
        `keys that are versions older than ${version} (1..${version - 1}) of ${definition.type}`,
        from,
      );
    }
    if (typeof upcaster !== 'function') throw configError(`upcasters.${from}`, 'a function', upcaster);
  }
}

function checked<D extends EventDefinition>(
  definition: D,
  result: StandardSchemaV1.Result<unknown>,
): EventData<D> {
  if (result.issues) {
    const issues = result.issues.map((issue) => ({
      path: (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.'),
      message: issue.message,
    }));
    const text = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    throw new HeraldError(ErrorCodes.VALIDATION, `Invalid ${definition.type}: ${text}`, {
      permanent: true,
      details: { type: definition.type, issues },
    });
  }
  return result.value;
}

/**
 * Validates data against a definition's schema. Throws a permanent `HERALD_VALIDATION` error listing every issue
 * with its path.
 */
export async function validateData<D extends EventDefinition>(
  definition: D,
  data: unknown,
): Promise<EventData<D>> {
  return validateDataEager(definition, data);
}

/**
 * {@link validateData} without a promise when the schema validates synchronously (most do): returns the data, or
 * throws the same `HERALD_VALIDATION` error, at once; a promise only for an asynchronous schema. For the hot paths
 * (each publish, each delivery), where every promise costs a turn and, under async context tracking, a hook call.
 */
export function validateDataEager<D extends EventDefinition>(
  definition: D,
  data: unknown,
): EventData<D> | Promise<EventData<D>> {
  const result = definition.schema['~standard'].validate(data);
  return result instanceof Promise ? result.then((r) => checked(definition, r)) : checked(definition, result);
}

/**
 * Validates synchronously, for code that cannot await (inside a better-sqlite3 transaction). Throws as
 * {@link validateData}, and `HERALD_UNSUPPORTED` when the schema only validates asynchronously.
 */
export function validateDataSync<D extends EventDefinition>(definition: D, data: unknown): EventData<D> {
  const result = definition.schema['~standard'].validate(data);
  if (result instanceof Promise) {
    throw new HeraldError(
      ErrorCodes.UNSUPPORTED,
      `The schema of ${definition.type} validates asynchronously: build the event with createEvent before the synchronous transaction (then outbox.add it)`,
      { permanent: true },
    );
  }
  return checked(definition, result);
}
