import { existsSync } from 'node:fs';
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
 * The module at `specifier` (a path, relative to the cwd, or a package name); `HERALD_CONFIG` when it cannot
 * load. A specifier is a path when it starts with `.` or `/`, or names a file that exists (`shop/src/x.ts`).
 */
async function importContracts(specifier: string): Promise<Record<string, unknown>> {
  const isPath = /^[./]/.test(specifier) || existsSync(resolve(specifier));
  const target = isPath ? pathToFileURL(resolve(specifier)).href : specifier;
  try {
    return (await import(target)) as Record<string, unknown>;
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
}

/**
 * The event definitions exported by the module at `specifier` (a path, relative to the cwd, or a package name),
 * by CloudEvents type. Throws `HERALD_CONFIG` when the module cannot be loaded or exports none.
 */
export async function loadContracts(specifier: string): Promise<Map<string, EventDefinition>> {
  const module = await importContracts(specifier);
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

/**
 * The consumer groups a contracts module names, by convention: every exported object whose entries carry a string
 * `group` (as the shop's `SERVICES = { payment: { group: 'payment-service', ... } }`). Empty when it names none.
 * Throws `HERALD_CONFIG` when the module cannot be loaded.
 */
export async function loadContractGroups(specifier: string): Promise<string[]> {
  const module = await importContracts(specifier);
  const groups = new Set<string>();
  for (const value of Object.values(module)) {
    if (typeof value !== 'object' || value === null || isEventDefinition(value)) continue;
    for (const entry of Object.values(value as Record<string, unknown>)) {
      const group = (entry as { group?: unknown } | null)?.group;
      if (typeof group === 'string' && group !== '') groups.add(group);
    }
  }
  return [...groups];
}
