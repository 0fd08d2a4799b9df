import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, HeraldError, type EventDefinition } from '@herald/core';

/** Whether a module export is an event definition (as `defineEvent` returns): a type, a topic, a Standard Schema. */
export function isEventDefinition(value: unknown): value is EventDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<EventDefinition>;
  return (
    typeof candidate.type === 'string' &&
    typeof candidate.topic === 'string' &&
    typeof candidate.schema?.['~standard']?.validate === 'function'
  );
}

/**
 * The event definitions exported by the module at `specifier` (a path, relative to the cwd, or a package name),
 * by CloudEvents type. Throws `HERALD_CONFIG` when the module cannot be loaded or exports none.
 */
export async function loadContracts(specifier: string): Promise<Map<string, EventDefinition>> {
  const target = /^[./]/.test(specifier) ? pathToFileURL(resolve(specifier)).href : specifier;
  let module: Record<string, unknown>;
  try {
    module = (await import(target)) as Record<string, unknown>;
  } catch (error) {
    throw new HeraldError(
      ErrorCodes.CONFIG,
      `Cannot load the contracts module "${specifier}": ${String(error)}`,
      {
        permanent: true,
        cause: error,
        details: { option: '--contracts' },
      },
    );
  }
  const definitions = new Map<string, EventDefinition>();
  for (const value of Object.values(module)) {
    if (isEventDefinition(value)) definitions.set(value.type, value);
  }
  if (definitions.size === 0) {
    throw new HeraldError(ErrorCodes.CONFIG, `The module "${specifier}" exports no event definitions`, {
      permanent: true,
      details: { option: '--contracts' },
    });
  }
  return definitions;
}
