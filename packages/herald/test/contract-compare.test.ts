import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { compareContracts, contractSnapshot, defineEvent, type ContractFinding } from '@herald/core';

// Issue 12 item 2: the rules within one version of a contract, on real zod schemas. Each planted change must be
// reported breaking at exactly its field; each additive change must pass.

const Line = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() });
const base = {
  shipmentId: z.string(),
  items: z.array(Line).min(1),
  carrier: z.enum(['dhl', 'ups']),
  weightGrams: z.number(),
  note: z.string().optional(),
};

function shipped(schema: z.ZodType) {
  return defineEvent({ type: 'ShipmentDispatched', topic: 'shipments', schema });
}

/** The findings of `after` against a snapshot of `before`, as `path change` lines. */
function findings(before: z.ZodType, after: z.ZodType): ContractFinding[] {
  return compareContracts(contractSnapshot([shipped(before)]), [shipped(after)]);
}
const lines = (list: ContractFinding[], breaking: boolean): string[] =>
  list.filter((f) => f.breaking === breaking).map((f) => `${f.path} ${f.change}`);
const breakingOf = (before: z.ZodType, after: z.ZodType): string[] => lines(findings(before, after), true);

describe('compareContracts within one version: breaking changes name the field', () => {
  it('finds nothing when nothing changed (the same schema built twice)', () => {
    assert.deepEqual(findings(z.object(base), z.object({ ...base })), []);
  });

  it('a required property removed, also inside array items', () => {
    const { weightGrams: _gone, ...rest } = base;
    assert.deepEqual(breakingOf(z.object(base), z.object(rest)), ['weightGrams property-removed']);
    const noSku = z.object({ ...base, items: z.array(z.object({ quantity: Line.shape.quantity })).min(1) });
    assert.deepEqual(breakingOf(z.object(base), noSku), ['items[].sku property-removed']);
  });

  it('a rename shows as removed + added', () => {
    const renamed = z.object({
      ...base,
      items: z.array(z.object({ code: z.string().min(1), quantity: Line.shape.quantity })).min(1),
    });
    const found = findings(z.object(base), renamed);
    assert.deepEqual(lines(found, true), ['items[].sku property-removed', 'items[].code property-added']);
    assert.match(found[0]!.message, /required property items\[\]\.sku was removed \(or renamed\)/);
  });

  it('an optional property made required, and a required one made optional', () => {
    assert.deepEqual(breakingOf(z.object(base), z.object({ ...base, note: z.string() })), [
      'note made-required',
    ]);
    assert.deepEqual(breakingOf(z.object(base), z.object({ ...base, weightGrams: z.number().optional() })), [
      'weightGrams made-optional',
    ]);
  });

  it('a new required property without a default', () => {
    assert.deepEqual(breakingOf(z.object(base), z.object({ ...base, warehouse: z.string() })), [
      'warehouse property-added',
    ]);
  });

  it('a type narrowed (number → integer) or widened (nullable, integer → number)', () => {
    assert.deepEqual(breakingOf(z.object(base), z.object({ ...base, weightGrams: z.number().int() })), [
      'weightGrams type-narrowed',
    ]);
    assert.deepEqual(breakingOf(z.object(base), z.object({ ...base, weightGrams: z.number().nullable() })), [
      'weightGrams type-widened',
    ]);
    const intLine = z.object({
      ...base,
      items: z.array(Line.extend({ quantity: z.number().positive() })).min(1),
    });
    assert.deepEqual(breakingOf(z.object(base), intLine), ['items[].quantity type-widened']);
    assert.deepEqual(breakingOf(z.object(base), z.object({ ...base, weightGrams: z.string() })), [
      'weightGrams type-changed',
    ]);
  });

  it('an enum value removed, an enum value added', () => {
    assert.deepEqual(breakingOf(z.object(base), z.object({ ...base, carrier: z.enum(['dhl']) })), [
      'carrier enum-value-removed',
    ]);
    const more = findings(z.object(base), z.object({ ...base, carrier: z.enum(['dhl', 'ups', 'gls']) }));
    assert.deepEqual(lines(more, true), ['carrier enum-value-added']);
    assert.match(more[0]!.message, /"gls"/);
  });

  it('a union member removed or added (objects, a nullable object; zod writes a union of primitives as a type list)', () => {
    const byId = z.object({ id: z.string() });
    const byCode = z.object({ code: z.number() });
    const ref = z.union([byId, byCode]);
    assert.deepEqual(breakingOf(z.object({ ...base, ref }), z.object({ ...base, ref: byId })), [
      'ref union-member-removed',
    ]);
    const more = findings(
      z.object({ ...base, ref }),
      z.object({ ...base, ref: z.union([byId, byCode, z.object({ ean: z.string() })]) }),
    );
    assert.deepEqual(lines(more, true), ['ref union-member-added']);
    assert.match(more[0]!.message, /ref also accepts an object of ean now/);
    const address = z.object({ city: z.string() });
    assert.deepEqual(
      breakingOf(z.object({ ...base, to: address.nullable() }), z.object({ ...base, to: address })),
      ['to union-member-removed'],
    );
    const id = z.union([z.string(), z.number()]);
    assert.deepEqual(breakingOf(z.object({ ...base, id }), z.object({ ...base, id: z.string() })), [
      'id type-narrowed',
    ]);
    assert.deepEqual(
      breakingOf(z.object({ ...base, id }), z.object({ ...base, id: z.union([id, z.boolean()]) })),
      ['id type-widened'],
    );
  });

  it('recurses into the paired members of a union', () => {
    const a = z.union([
      z.object({ kind: z.literal('parcel'), grams: z.number() }),
      z.object({ letter: z.string() }),
    ]);
    const b = z.union([
      z.object({ kind: z.literal('parcel'), grams: z.number().int() }),
      z.object({ letter: z.string() }),
    ]);
    assert.deepEqual(breakingOf(a, b), ['grams type-narrowed']);
  });

  it('bounds and formats tightened or loosened', () => {
    const cases: [z.ZodType, string[]][] = [
      [z.object({ ...base, shipmentId: z.string().min(3) }), ['shipmentId constraint-tightened']],
      [z.object({ ...base, shipmentId: z.string().max(36) }), ['shipmentId constraint-tightened']],
      [z.object({ ...base, shipmentId: z.string().regex(/^s-/) }), ['shipmentId constraint-tightened']],
      [
        z.object({ ...base, shipmentId: z.uuid() }),
        ['shipmentId constraint-tightened', 'shipmentId constraint-tightened'],
      ],
      [z.object({ ...base, items: z.array(Line).min(2) }), ['items constraint-tightened']],
      [z.object({ ...base, items: z.array(Line) }), ['items constraint-loosened']],
      [z.object({ ...base, weightGrams: z.number().max(30_000) }), ['weightGrams constraint-tightened']],
      [
        z.object({
          ...base,
          items: z.array(Line.extend({ quantity: z.number().int().nonnegative() })).min(1),
        }),
        ['items[].quantity constraint-tightened', 'items[].quantity constraint-loosened'],
      ],
    ];
    for (const [after, expected] of cases) assert.deepEqual(breakingOf(z.object(base), after), expected);
    const max = findings(
      z.object({ ...base, weightGrams: z.number().max(100) }),
      z.object({ ...base, weightGrams: z.number().max(50) }),
    );
    assert.match(max[0]!.message, /weightGrams: maximum 100 → 50/);
  });

  it('counts the safe-integer bounds zod writes for .int() as part of "integer", not as extra bounds', () => {
    assert.deepEqual(breakingOf(z.object({ n: z.number().int() }), z.object({ n: z.int() })), []);
    assert.deepEqual(
      breakingOf(z.object({ n: z.number().int() }), z.object({ n: z.number().int().max(9) })),
      ['n constraint-tightened'],
    );
  });

  it('closed objects (z.strictObject): an optional property removed or added breaks; closing or opening breaks', () => {
    const closed = z.strictObject(base);
    const { note: _note, ...rest } = base;
    assert.deepEqual(breakingOf(closed, z.strictObject(rest)), ['note optional-property-removed']);
    assert.deepEqual(breakingOf(closed, z.strictObject({ ...base, extra: z.string().optional() })), [
      'extra optional-property-added',
    ]);
    assert.deepEqual(breakingOf(z.object(base), closed), [' additional-properties-closed']);
    assert.deepEqual(breakingOf(closed, z.looseObject(base)), [' additional-properties-opened']);
  });

  it('records (additionalProperties schemas) and tuples', () => {
    const counts = z.object({ counts: z.record(z.string(), z.number()) });
    assert.deepEqual(breakingOf(counts, z.object({ counts: z.record(z.string(), z.number().int()) })), [
      'counts.* type-narrowed',
    ]);
    const pair = z.object({ at: z.tuple([z.number(), z.number()]) });
    assert.deepEqual(breakingOf(pair, z.object({ at: z.tuple([z.number(), z.string()]) })), [
      'at[1] type-changed',
    ]);
  });

  it('follows $ref into definitions (a registered schema) and stops on recursive schemas', () => {
    const make = (city: z.ZodType) => z.object({ to: z.object({ city }).meta({ id: 'Address' }) });
    const before = make(z.string());
    const after = make(z.string().min(2));
    assert.match(JSON.stringify(contractSnapshot([shipped(before)])), /"\$ref":"#\/definitions\/Address"/);
    assert.deepEqual(breakingOf(before, after), ['to.city constraint-tightened']);

    const tree = (leaf: z.ZodType) => {
      const Node: z.ZodType = z.object({
        name: leaf,
        get children() {
          return z.array(Node);
        },
      });
      return Node;
    };
    assert.deepEqual(breakingOf(tree(z.string()), tree(z.string())), []);
    assert.deepEqual(breakingOf(tree(z.string()), tree(z.string().min(1))), ['name constraint-tightened']);
  });
});

describe('compareContracts within one version: additive changes pass', () => {
  const additive = (after: z.ZodType): ContractFinding[] => {
    const found = findings(z.object(base), after);
    assert.deepEqual(lines(found, true), [], 'nothing breaking');
    return found;
  };

  it('a new optional property, and a new property with a default', () => {
    assert.deepEqual(lines(additive(z.object({ ...base, tracking: z.url().optional() })), false), [
      'tracking optional-property-added',
    ]);
    const found = additive(z.object({ ...base, priority: z.enum(['normal', 'express']).default('normal') }));
    assert.deepEqual(lines(found, false), ['priority optional-property-added']);
    assert.match(found[0]!.message, /property with a default priority/);
  });

  it('an optional property removed from an open object', () => {
    const { note: _note, ...rest } = base;
    assert.deepEqual(lines(additive(z.object(rest)), false), ['note optional-property-removed']);
  });

  it('a description or a default changed, z.union → z.discriminatedUnion', () => {
    assert.deepEqual(
      lines(additive(z.object({ ...base, note: z.string().optional().describe('for the driver') })), false),
      ['note description-changed'],
    );
    const withDefault = (d: number) => z.object({ ...base, boxes: z.number().default(d) });
    const changed = compareContracts(contractSnapshot([shipped(withDefault(1))]), [shipped(withDefault(2))]);
    assert.deepEqual(lines(changed, true), []);
    assert.deepEqual(lines(changed, false), ['boxes default-changed']);

    const parcel = z.object({ kind: z.literal('parcel'), grams: z.number() });
    const letter = z.object({ kind: z.literal('letter') });
    const found = findings(z.union([parcel, letter]), z.discriminatedUnion('kind', [parcel, letter]));
    assert.deepEqual(lines(found, true), []);
    assert.deepEqual(lines(found, false), [' union-keyword-changed']);
  });
});
