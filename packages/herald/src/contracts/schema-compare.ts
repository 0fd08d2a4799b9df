// Compares two JSON Schemas (draft-07, as zod 4 writes them) of the same event data, field by field. No library
// in reach checks producer/consumer compatibility of JSON Schema, so this is Herald's own, kept to the keywords
// zod emits; a keyword it does not understand counts as breaking when it changes.
import type { RecordedSchema } from './contract-snapshot.ts';
import { BOUND_KEYWORDS, compareBounds, compareTypes, compareValues } from './schema-constraints.ts';
import {
  asNode,
  canonical,
  covers,
  fieldName,
  firstVisit,
  isObject,
  OLD_CONSUMERS,
  OLD_EVENTS,
  openness,
  propertyPath,
  report,
  resolve,
  summary,
  typeSet,
  type Comparison,
  type SchemaChange,
  type SchemaNode,
} from './schema-nodes.ts';

/** Keywords that describe but do not constrain: a change is reported, never breaking. */
const ANNOTATIONS = [
  'description',
  'default',
  'title',
  'examples',
  '$comment',
  'deprecated',
  'readOnly',
  'writeOnly',
];
/** Keywords that are not compared: the dialect, identifiers, and the definitions `$ref`s reach. */
const IGNORED = ['$schema', '$id', 'definitions', '$defs'];
const UNION = ['anyOf', 'oneOf'];
const STRUCTURE = [
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'allOf',
];
const HANDLED = new Set([...ANNOTATIONS, ...IGNORED, ...UNION, ...STRUCTURE, ...BOUND_KEYWORDS]);

function compareAnnotations(c: Comparison, a: SchemaNode, b: SchemaNode, path: string): void {
  const at = fieldName(path);
  for (const keyword of ANNOTATIONS) {
    if (canonical(a[keyword]) === canonical(b[keyword])) continue;
    if (keyword === 'description') {
      report(c, path, 'description-changed', false, `${at}: the description changed`);
    } else if (keyword === 'default') {
      const was = a.default === undefined ? 'none' : JSON.stringify(a.default);
      const now = b.default === undefined ? 'none' : JSON.stringify(b.default);
      report(
        c,
        path,
        'default-changed',
        false,
        `${at}: the default changed from ${was} to ${now} (old events without the field now read as ${now})`,
      );
    } else {
      report(c, path, 'annotation-changed', false, `${at}: the ${keyword} annotation changed`);
    }
  }
}

/** Every other keyword: compared as written, breaking when it differs (Herald cannot tell it is compatible). */
function compareOthers(c: Comparison, a: SchemaNode, b: SchemaNode, path: string, skip: Set<string>): void {
  const keywords = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const keyword of [...keywords].sort()) {
    if (skip.has(keyword) || canonical(a[keyword]) === canonical(b[keyword])) continue;
    report(
      c,
      path,
      'schema-changed',
      true,
      `${fieldName(path)}: "${keyword}" changed, which this check cannot prove compatible`,
    );
  }
}

function hasDefault(c: Comparison, schema: unknown): boolean {
  return 'default' in resolve(c.newRoot, schema);
}

function compareObjects(c: Comparison, a: SchemaNode, b: SchemaNode, path: string): void {
  if (!['properties', 'required', 'additionalProperties'].some((k) => k in a || k in b)) return;
  const at = fieldName(path);
  const openA = openness(a);
  const openB = openness(b);
  if (openA === 'constrained' && openB === 'constrained') {
    compareNode(c, a.additionalProperties, b.additionalProperties, path === '' ? '*' : `${path}.*`);
  } else if (openA !== openB) {
    const closer = openA === 'open' || (openA === 'constrained' && openB === 'closed');
    if (closer) {
      report(
        c,
        path,
        'additional-properties-closed',
        true,
        `${at} takes ${openB === 'closed' ? 'no' : 'fewer'} properties besides those it lists now: ${OLD_EVENTS}`,
      );
    } else {
      report(
        c,
        path,
        'additional-properties-opened',
        true,
        `${at} takes properties besides those it lists now: ${OLD_CONSUMERS}`,
      );
    }
  }
  const pa = isObject(a.properties) ? a.properties : {};
  const pb = isObject(b.properties) ? b.properties : {};
  const ra = new Set(Array.isArray(a.required) ? a.required : []);
  const rb = new Set(Array.isArray(b.required) ? b.required : []);
  const names = new Set<string>();
  for (const name of [...Object.keys(pa), ...ra, ...Object.keys(pb), ...rb]) {
    if (typeof name === 'string') names.add(name);
  }
  for (const name of names) {
    const field = propertyPath(path, name);
    const inA = name in pa || ra.has(name);
    const inB = name in pb || rb.has(name);
    const requiredB = rb.has(name) && !hasDefault(c, pb[name]);
    if (inA && inB) {
      if (ra.has(name) && !rb.has(name)) {
        report(
          c,
          field,
          'made-optional',
          true,
          `${field} is optional now: consumers still on the old contract require it and reject new events without it`,
        );
      } else if (!ra.has(name) && requiredB) {
        report(
          c,
          field,
          'made-required',
          true,
          `${field} is required now: old events without it fail validation`,
        );
      }
      compareNode(c, pa[name], pb[name], field);
    } else if (inA) {
      if (ra.has(name)) {
        report(
          c,
          field,
          'property-removed',
          true,
          `required property ${field} was removed (or renamed): consumers still on the old contract require it and reject new events without it`,
        );
      } else if (openB !== 'open') {
        report(
          c,
          field,
          'optional-property-removed',
          true,
          `optional property ${field} was removed from an object that takes no unlisted properties: old events that carry it fail validation`,
        );
      } else {
        report(
          c,
          field,
          'optional-property-removed',
          false,
          `optional property ${field} was removed: old events that carry it still pass (the object is open), and no old consumer required it`,
        );
      }
    } else if (requiredB) {
      report(
        c,
        field,
        'property-added',
        true,
        `required property ${field} was added without a default: old events lack it and fail validation`,
      );
    } else if (openA !== 'open') {
      report(
        c,
        field,
        'optional-property-added',
        true,
        `property ${field} was added to an object that took no unlisted properties: ${OLD_CONSUMERS}`,
      );
    } else {
      report(
        c,
        field,
        'optional-property-added',
        false,
        `${hasDefault(c, pb[name]) ? 'property with a default' : 'optional property'} ${field} was added: old events without it pass, old consumers ignore it`,
      );
    }
  }
}

function compareArrays(c: Comparison, a: SchemaNode, b: SchemaNode, path: string): void {
  const ia = a.items;
  const ib = b.items;
  const at = fieldName(path);
  if (ia === undefined && ib === undefined) return;
  if (Array.isArray(ia) && Array.isArray(ib)) {
    for (let i = 0; i < Math.max(ia.length, ib.length); i++) {
      if (i < ia.length && i < ib.length) compareNode(c, ia[i], ib[i], `${path}[${i}]`);
      else if (i < ia.length)
        report(c, `${path}[${i}]`, 'items-changed', true, `${at} lost tuple item ${i}: ${OLD_EVENTS}`);
      else
        report(c, `${path}[${i}]`, 'items-changed', true, `${at} gained tuple item ${i}: ${OLD_CONSUMERS}`);
    }
  } else if (ia === undefined) {
    report(c, path, 'constraint-tightened', true, `${at}: its items are constrained now: ${OLD_EVENTS}`);
  } else if (ib === undefined) {
    report(
      c,
      path,
      'constraint-loosened',
      true,
      `${at}: its items are no longer constrained: ${OLD_CONSUMERS}`,
    );
  } else if (Array.isArray(ia) || Array.isArray(ib)) {
    report(
      c,
      path,
      'items-changed',
      true,
      `${at} changed between a tuple and a list: old events fail validation and old consumers reject new events`,
    );
  } else {
    compareNode(c, ia, ib, `${path}[]`);
  }
}

function compareAllOf(c: Comparison, a: SchemaNode, b: SchemaNode, path: string): void {
  const aa = Array.isArray(a.allOf) ? a.allOf : [];
  const ab = Array.isArray(b.allOf) ? b.allOf : [];
  if (aa.length === ab.length) {
    aa.forEach((member, i) => compareNode(c, member, ab[i], path));
  } else {
    report(
      c,
      path,
      'schema-changed',
      true,
      `${fieldName(path)}: "allOf" changed, which this check cannot prove compatible`,
    );
  }
}

interface Union {
  readonly keyword: 'anyOf' | 'oneOf';
  readonly members: readonly unknown[];
}

function unionOf(node: SchemaNode): Union | undefined {
  if (Array.isArray(node.anyOf)) return { keyword: 'anyOf', members: node.anyOf };
  if (Array.isArray(node.oneOf)) return { keyword: 'oneOf', members: node.oneOf };
  return undefined;
}

function without(node: SchemaNode, keywords: readonly string[]): SchemaNode {
  return Object.fromEntries(Object.entries(node).filter(([k]) => !keywords.includes(k)));
}

/** How alike two union members are: 0 when they cannot be the same member (no type in common). */
function similarity(a: SchemaNode, b: SchemaNode): number {
  const ta = typeSet(a);
  const tb = typeSet(b);
  if (ta !== undefined && tb !== undefined) {
    if (![...ta].some((t) => covers(tb, t)) && ![...tb].some((t) => covers(ta, t))) return 0;
  }
  const pa = isObject(a.properties) ? Object.keys(a.properties) : [];
  const pb = new Set(isObject(b.properties) ? Object.keys(b.properties) : []);
  return 1 + pa.filter((name) => pb.has(name)).length;
}

/**
 * Compares the members of two unions (a plain schema counts as a union of one): equal members pair first, then
 * the most alike, and paired members are compared field by field. A member left over on the old side was
 * removed (old events of that shape fail), one on the new side was added (old consumers reject it).
 */
function compareUnions(c: Comparison, ua: readonly unknown[], ub: readonly unknown[], path: string): void {
  const ma = ua.map((m) => resolve(c.oldRoot, m));
  const mb = ub.map((m) => resolve(c.newRoot, m));
  const freeA = new Set(ma.keys());
  const freeB = new Set(mb.keys());
  const pairs: [number, number][] = [];
  for (const i of freeA) {
    const j = [...freeB].find((k) => canonical(ma[i]) === canonical(mb[k]));
    if (j === undefined) continue;
    freeA.delete(i);
    freeB.delete(j);
    pairs.push([i, j]); // equal as written, but a $ref inside may point at a changed definition
  }
  const candidates = [...freeA]
    .flatMap((i) => [...freeB].map((j) => ({ i, j, score: similarity(ma[i]!, mb[j]!) })))
    .filter((p) => p.score > 0)
    .sort((x, y) => y.score - x.score || x.i - y.i || x.j - y.j);
  for (const { i, j } of candidates) {
    if (!freeA.has(i) || !freeB.has(j)) continue;
    freeA.delete(i);
    freeB.delete(j);
    pairs.push([i, j]);
  }
  const at = fieldName(path);
  for (const i of freeA) {
    report(
      c,
      path,
      'union-member-removed',
      true,
      `${at} no longer accepts ${summary(ma[i]!)}: ${OLD_EVENTS}`,
    );
  }
  for (const j of freeB) {
    report(
      c,
      path,
      'union-member-added',
      true,
      `${at} also accepts ${summary(mb[j]!)} now: ${OLD_CONSUMERS}`,
    );
  }
  for (const [i, j] of pairs) compareNode(c, ma[i], mb[j], path);
}

function compareNode(c: Comparison, rawA: unknown, rawB: unknown, path: string): void {
  const a = resolve(c.oldRoot, rawA);
  const b = resolve(c.newRoot, rawB);
  if (!firstVisit(c, a, b)) return;
  compareAnnotations(c, a, b, path);
  const ua = unionOf(a);
  const ub = unionOf(b);
  if (ua !== undefined || ub !== undefined) {
    const ignored = [...UNION, ...ANNOTATIONS, ...IGNORED];
    compareUnions(c, ua?.members ?? [without(a, ignored)], ub?.members ?? [without(b, ignored)], path);
    if (ua !== undefined && ub !== undefined && ua.keyword !== ub.keyword) {
      report(
        c,
        path,
        'union-keyword-changed',
        false,
        `${fieldName(path)}: ${ua.keyword} became ${ub.keyword} (the members are compared as before)`,
      );
    }
    const rest = (node: SchemaNode, union: Union | undefined): SchemaNode =>
      union === undefined ? {} : without(node, ignored);
    compareOthers(c, rest(a, ua), rest(b, ub), path, new Set());
    return;
  }
  if (!compareTypes(c, a, b, path)) return;
  compareValues(c, a, b, path);
  compareBounds(c, a, b, path);
  compareObjects(c, a, b, path);
  compareArrays(c, a, b, path);
  compareAllOf(c, a, b, path);
  compareOthers(c, a, b, path, HANDLED);
}

/**
 * The differences between the JSON Schema `before` and `after` of the same data, field by field: each with its
 * path, what changed, and whether it breaks old consumers or old events (the rules of
 * docs/contract-compatibility.md). Recurses through properties, `items`, `additionalProperties`, `anyOf`/`oneOf`,
 * `allOf` and local `$ref`s (`#`, `#/definitions/...`), once per pair of nodes.
 */
export function compareSchemas(before: RecordedSchema, after: RecordedSchema): SchemaChange[] {
  const c: Comparison = {
    oldRoot: asNode(before),
    newRoot: asNode(after),
    changes: [],
    seen: new Map(),
  };
  compareNode(c, c.oldRoot, c.newRoot, '');
  return c.changes;
}
