// The value-level rules of the schema comparison: types, enum and const, and the keywords that bound a value
// (minimum, maxLength, pattern, format...). Within one version every change of what a field accepts is breaking:
// narrowing fails old events, widening fails old consumers (see docs/contract-compatibility.md).
import {
  canonical,
  covers,
  fieldName,
  OLD_CONSUMERS,
  OLD_EVENTS,
  report,
  typeSet,
  type Comparison,
  type SchemaNode,
} from './schema-nodes.ts';

const list = (types: Iterable<string>): string => [...types].join(' or ');

/**
 * Compares the `type`s of two nodes. Returns false when they share no type (the node changed kind: nothing
 * below it is worth comparing), true otherwise.
 */
export function compareTypes(c: Comparison, a: SchemaNode, b: SchemaNode, path: string): boolean {
  const ta = typeSet(a);
  const tb = typeSet(b);
  const at = fieldName(path);
  if (ta === undefined && tb === undefined) return true;
  if (ta === undefined) {
    report(
      c,
      path,
      'type-narrowed',
      true,
      `${at} accepts only ${list(tb!)} now (was any type): ${OLD_EVENTS}`,
    );
    return true;
  }
  if (tb === undefined) {
    report(c, path, 'type-widened', true, `${at} accepts any type now (was ${list(ta)}): ${OLD_CONSUMERS}`);
    return true;
  }
  const lost = [...ta].filter((t) => !covers(tb, t));
  const gained = [...tb].filter((t) => !covers(ta, t));
  const shared = [...ta].some((t) => covers(tb, t)) || [...tb].some((t) => covers(ta, t));
  if (!shared) {
    report(
      c,
      path,
      'type-changed',
      true,
      `${at} changed type from ${list(ta)} to ${list(tb)}: old events fail validation and old consumers reject new events`,
    );
    return false;
  }
  if (lost.length > 0 && gained.length > 0) {
    report(
      c,
      path,
      'type-changed',
      true,
      `${at} changed type from ${list(ta)} to ${list(tb)}: ${OLD_EVENTS}, and ${OLD_CONSUMERS}`,
    );
  } else if (lost.length > 0) {
    report(c, path, 'type-narrowed', true, `${at} narrowed from ${list(ta)} to ${list(tb)}: ${OLD_EVENTS}`);
  } else if (gained.length > 0) {
    report(c, path, 'type-widened', true, `${at} widened from ${list(ta)} to ${list(tb)}: ${OLD_CONSUMERS}`);
  }
  return true;
}

/** Compares `enum` and `const`: a value removed fails old events, a value added fails old consumers. */
export function compareValues(c: Comparison, a: SchemaNode, b: SchemaNode, path: string): void {
  const at = fieldName(path);
  const ea = Array.isArray(a.enum) ? a.enum : undefined;
  const eb = Array.isArray(b.enum) ? b.enum : undefined;
  if (ea !== undefined && eb !== undefined) {
    const inA = new Set(ea.map(canonical));
    const inB = new Set(eb.map(canonical));
    const removed = ea.filter((v) => !inB.has(canonical(v)));
    const added = eb.filter((v) => !inA.has(canonical(v)));
    const values = (vs: unknown[]): string => vs.map((v) => JSON.stringify(v)).join(', ');
    if (removed.length > 0) {
      report(
        c,
        path,
        'enum-value-removed',
        true,
        `${at} no longer accepts ${values(removed)}: ${OLD_EVENTS}`,
      );
    }
    if (added.length > 0) {
      report(c, path, 'enum-value-added', true, `${at} also accepts ${values(added)} now: ${OLD_CONSUMERS}`);
    }
  } else if (ea !== undefined) {
    report(
      c,
      path,
      'constraint-loosened',
      true,
      `${at} is no longer limited to its enum values: ${OLD_CONSUMERS}`,
    );
  } else if (eb !== undefined) {
    report(c, path, 'constraint-tightened', true, `${at} is limited to enum values now: ${OLD_EVENTS}`);
  }
  const hasA = 'const' in a;
  const hasB = 'const' in b;
  if (hasA && hasB && canonical(a.const) !== canonical(b.const)) {
    report(
      c,
      path,
      'const-changed',
      true,
      `${at} must be ${JSON.stringify(b.const)} now (was ${JSON.stringify(a.const)}): old events fail validation and old consumers reject new events`,
    );
  } else if (hasA && !hasB) {
    report(
      c,
      path,
      'constraint-loosened',
      true,
      `${at} is no longer fixed to ${JSON.stringify(a.const)}: ${OLD_CONSUMERS}`,
    );
  } else if (!hasA && hasB) {
    report(
      c,
      path,
      'constraint-tightened',
      true,
      `${at} is fixed to ${JSON.stringify(b.const)} now: ${OLD_EVENTS}`,
    );
  }
}

/** Keywords that bound a value from below (a larger value is tighter) or from above (a smaller one is). */
const BOUNDS: Readonly<Record<string, 'lower' | 'upper'>> = {
  minimum: 'lower',
  exclusiveMinimum: 'lower',
  minLength: 'lower',
  minItems: 'lower',
  minProperties: 'lower',
  maximum: 'upper',
  exclusiveMaximum: 'upper',
  maxLength: 'upper',
  maxItems: 'upper',
  maxProperties: 'upper',
};

/** Keywords that restrict a value without an order: added tightens, removed loosens, changed is both. */
const RESTRICTIONS = ['pattern', 'format', 'multipleOf'] as const;

/** The keywords {@link compareBounds} handles. */
export const BOUND_KEYWORDS: readonly string[] = [...Object.keys(BOUNDS), ...RESTRICTIONS, 'uniqueItems'];

/**
 * A bound as it constrains: zod writes `.int()` as the safe-integer range, which says no more than `integer`
 * does, so those bounds count as absent (`z.number()` → `z.number().int()` is one narrowing, not three).
 */
function bound(node: SchemaNode, keyword: string): unknown {
  const value = node[keyword];
  if (keyword === 'minimum' && value === -Number.MAX_SAFE_INTEGER) return undefined;
  if (keyword === 'maximum' && value === Number.MAX_SAFE_INTEGER) return undefined;
  return value;
}

/** Compares the bounding keywords: tightened fails old events, loosened fails old consumers, both breaking. */
export function compareBounds(c: Comparison, a: SchemaNode, b: SchemaNode, path: string): void {
  const at = fieldName(path);
  const tightened = (what: string): void =>
    report(c, path, 'constraint-tightened', true, `${at}: ${what}: ${OLD_EVENTS}`);
  const loosened = (what: string): void =>
    report(c, path, 'constraint-loosened', true, `${at}: ${what}: ${OLD_CONSUMERS}`);
  for (const [keyword, side] of Object.entries(BOUNDS)) {
    const va = bound(a, keyword);
    const vb = bound(b, keyword);
    if (canonical(va) === canonical(vb)) continue;
    if (va === undefined) tightened(`${keyword} ${JSON.stringify(vb)} added`);
    else if (vb === undefined) loosened(`${keyword} ${JSON.stringify(va)} removed`);
    else if (typeof va !== 'number' || typeof vb !== 'number') {
      report(
        c,
        path,
        'constraint-changed',
        true,
        `${at}: ${keyword} changed: ${OLD_EVENTS}, and ${OLD_CONSUMERS}`,
      );
    } else if ((side === 'lower') === vb > va) tightened(`${keyword} ${va} → ${vb}`);
    else loosened(`${keyword} ${va} → ${vb}`);
  }
  for (const keyword of RESTRICTIONS) {
    const va = a[keyword];
    const vb = b[keyword];
    if (canonical(va) === canonical(vb)) continue;
    if (va === undefined) tightened(`${keyword} ${JSON.stringify(vb)} added`);
    else if (vb === undefined) loosened(`${keyword} ${JSON.stringify(va)} removed`);
    else {
      report(
        c,
        path,
        'constraint-changed',
        true,
        `${at}: ${keyword} ${JSON.stringify(va)} → ${JSON.stringify(vb)}: ${OLD_EVENTS}, and ${OLD_CONSUMERS}`,
      );
    }
  }
  if ((a.uniqueItems === true) !== (b.uniqueItems === true)) {
    if (b.uniqueItems === true) tightened('items must be unique now');
    else loosened('items need no longer be unique');
  }
}
