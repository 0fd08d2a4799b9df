import type { EventDefinition } from '../event-definition.ts';

const MARK = '\u0000herald-field:';

/**
 * The top-level payload field a definition's `key` function returns, found by calling it once on a probe object
 * whose every property reads as a marker naming that property. Key functions are pure by contract, so the call has
 * no effect. Returns undefined when the definition has no key, when the function throws, or when it returns
 * anything but exactly one field's value (a composite or computed key, a nested field): then no field is claimed.
 */
export function partitionKeyField(definition: EventDefinition): string | undefined {
  if (definition.key === undefined) return undefined;
  const probe = new Proxy(
    {},
    { get: (_target, property) => (typeof property === 'string' ? MARK + property : undefined) },
  );
  let result: unknown;
  try {
    result = definition.key(probe);
  } catch {
    return undefined;
  }
  if (typeof result !== 'string' || !result.startsWith(MARK)) return undefined;
  const field = result.slice(MARK.length);
  return field.length > 0 && !field.includes(MARK) ? field : undefined;
}
