// What the schema comparison needs to read JSON Schema (draft-07) nodes: `$ref`s resolved in their own document,
// type sets, object openness, field paths, and the list of changes found so far.
import type { ContractChange } from './contract-finding.ts';

/** A JSON Schema node as an object (boolean schemas are turned into their object equivalents). */
export type SchemaNode = Readonly<Record<string, unknown>>;

/** One difference between two JSON Schemas of the same data. */
export interface SchemaChange {
  /** The field path (`items[].sku`), `""` for the data as a whole. */
  readonly path: string;
  readonly change: ContractChange;
  readonly breaking: boolean;
  readonly message: string;
}

/** The state of one comparison: both documents (for `$ref`), the changes found, the node pairs already compared. */
export interface Comparison {
  readonly oldRoot: SchemaNode;
  readonly newRoot: SchemaNode;
  readonly changes: SchemaChange[];
  readonly seen: Map<SchemaNode, Set<SchemaNode>>;
}

/** Why a narrowing breaks: what was valid may no longer be. */
export const OLD_EVENTS = 'events already published (in the log, a dead-letter queue) may fail validation';
/** Why a widening breaks: the old schema rejects what the new one lets producers send. */
export const OLD_CONSUMERS = 'consumers still on the old contract reject new events that use it';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A schema value as an object node: `true` → `{}`, `false` → `{ not: {} }`, anything else that is no object → `{}`. */
export function asNode(value: unknown): SchemaNode {
  if (value === false) return { not: {} };
  return isObject(value) ? value : {};
}

function pointer(root: SchemaNode, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = isObject(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** The node a `$ref` (local to `root`: `#`, `#/definitions/...`) points to; the node itself when it has none. */
export function resolve(root: SchemaNode, value: unknown): SchemaNode {
  let node = asNode(value);
  for (let hops = 0; typeof node.$ref === 'string' && hops < 32; hops++) {
    const target = pointer(root, node.$ref);
    if (target === undefined) return node; // an external $ref: compared as written
    node = asNode(target);
  }
  return node;
}

/** True once per pair: a recursive schema (`$ref: "#"`) is compared once, not forever. */
export function firstVisit(c: Comparison, a: SchemaNode, b: SchemaNode): boolean {
  const partners = c.seen.get(a) ?? new Set<SchemaNode>();
  if (partners.has(b)) return false;
  partners.add(b);
  c.seen.set(a, partners);
  return true;
}

/** The JSON types a node allows; `undefined` when it does not say (any type). */
export function typeSet(node: SchemaNode): Set<string> | undefined {
  if (typeof node.type === 'string') return new Set([node.type]);
  if (Array.isArray(node.type)) return new Set(node.type.filter((t): t is string => typeof t === 'string'));
  return undefined;
}

/** Whether `types` accepts values of `type` (`number` accepts integers). */
export function covers(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === 'integer' && types.has('number'));
}

/** How an object node treats properties it does not list. */
export type Openness = 'open' | 'closed' | 'constrained';

export function openness(node: SchemaNode): Openness {
  const extra = node.additionalProperties;
  if (extra === undefined || extra === true || (isObject(extra) && Object.keys(extra).length === 0)) {
    return 'open';
  }
  return extra === false ? 'closed' : 'constrained';
}

/** A JSON value as text with object keys sorted: equal values give equal text. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (!isObject(value)) return JSON.stringify(value) ?? 'undefined';
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
}

/** The path of a property: `a.b`, or `a["odd key"]`. */
export function propertyPath(path: string, name: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(name)) return `${path}[${JSON.stringify(name)}]`;
  return path === '' ? name : `${path}.${name}`;
}

/** How a message names the field at `path`. */
export function fieldName(path: string): string {
  return path === '' ? 'the data' : path;
}

export function report(
  c: Comparison,
  path: string,
  change: ContractChange,
  breaking: boolean,
  message: string,
): void {
  c.changes.push({ path, change, breaking, message });
}

/** A short description of a schema, for messages: `an object of orderId, amount`, `the value "x"`, `null`. */
export function summary(node: SchemaNode): string {
  if ('const' in node) return `the value ${JSON.stringify(node.const)}`;
  if (Array.isArray(node.enum)) return `the values ${node.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (isObject(node.properties))
    return `an object of ${Object.keys(node.properties).join(', ') || 'nothing'}`;
  const types = typeSet(node);
  if (types !== undefined) return [...types].join(' or ');
  const text = canonical(node);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
