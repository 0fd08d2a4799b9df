import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  compareContracts,
  contractSnapshot,
  defineEvent,
  type ContractFinding,
  type EventDefinition,
  type Upcaster,
} from '@herald/core';

// Issue 12 item 2: the rules across types and versions. v1 of OrderPlaced has `amountCents`; v2 a money object
// (the upcaster carries v1 events); v3 adds a currency-less total.

const V1 = z.object({ orderId: z.string(), amountCents: z.number().int() });
const V2 = z.object({
  orderId: z.string(),
  total: z.object({ cents: z.number().int(), currency: z.string() }),
});
const V3 = z.object({ orderId: z.string(), totalCents: z.number().int() });

const toV2: Upcaster = (data) => {
  const old = data as { orderId: string; amountCents: number };
  return { orderId: old.orderId, total: { cents: old.amountCents, currency: 'EUR' } };
};
const toV3: Upcaster = (data) => {
  const old = data as { orderId: string; total: { cents: number } };
  return { orderId: old.orderId, totalCents: old.total.cents };
};

function placed(version: number, schema: z.ZodType, upcasters?: Record<number, Upcaster>, topic = 'orders') {
  return defineEvent({ type: 'OrderPlaced', topic, schema, version, ...(upcasters ? { upcasters } : {}) });
}
const Paid = defineEvent({ type: 'OrderPaid', topic: 'payments', schema: z.object({ orderId: z.string() }) });

const summary = (list: ContractFinding[]): string[] =>
  list.map((f) =>
    `${f.breaking ? 'BREAKING' : 'ok'} ${f.type} v${f.version} ${f.path} ${f.change}`.replace(/ +/g, ' '),
  );
const check = (before: EventDefinition[], after: EventDefinition[]): ContractFinding[] =>
  compareContracts(contractSnapshot(before), after);

describe('compareContracts across types and versions', () => {
  it('a type gone from the definitions is breaking; a new type is not', () => {
    assert.deepEqual(summary(check([placed(1, V1), Paid], [placed(1, V1)])), [
      'BREAKING OrderPaid v1 contract-removed',
    ]);
    assert.deepEqual(summary(check([placed(1, V1)], [placed(1, V1), Paid])), [
      'ok OrderPaid v1 contract-added',
    ]);
  });

  it('a topic change is breaking', () => {
    const found = check([placed(1, V1)], [placed(1, V1, undefined, 'sales')]);
    assert.deepEqual(summary(found), ['BREAKING OrderPlaced v1 topic-changed']);
    assert.match(found[0]!.message, /from topic orders to sales/);
  });

  it('a version lower than the snapshot is breaking', () => {
    assert.deepEqual(summary(check([placed(2, V2, { 1: toV2 })], [placed(1, V1)])), [
      'BREAKING OrderPlaced v1 version-lowered',
    ]);
  });

  it('a bump with its upcaster passes, and lists the new schema changes as informational', () => {
    const found = check([placed(1, V1)], [placed(2, V2, { 1: toV2 })]);
    assert.deepEqual(summary(found), [
      'ok OrderPlaced v2 version-added',
      'ok OrderPlaced v2 amountCents property-removed',
      'ok OrderPlaced v2 total property-added',
    ]);
    assert.match(found[1]!.message, /allowed: version 2 is new, its upcasters carry version 1 events/);
  });

  it('a bump without an upcaster is breaking and names the missing one', () => {
    const found = check([placed(1, V1)], [placed(2, V2)]);
    assert.deepEqual(summary(found.filter((f) => f.breaking)), [
      'BREAKING OrderPlaced v2 upcasters[1] upcaster-missing',
    ]);
    assert.match(found[0]!.message, /no upcaster from version 1 to 2 \(upcasters\[1\]\)/);
    // v1 → v3 with only the v2 → v3 step: v1 events are stranded.
    assert.deepEqual(
      summary(check([placed(1, V1)], [placed(3, V3, { 2: toV3 })]).filter((f) => f.breaking)),
      ['BREAKING OrderPlaced v3 upcasters[1] upcaster-missing'],
    );
  });

  it('checks the whole recorded history: every version the snapshot keeps needs a path to the current one', () => {
    const v2 = placed(2, V2, { 1: toV2 });
    const history = contractSnapshot([v2], contractSnapshot([placed(1, V1)]));
    assert.deepEqual(Object.keys(history.contracts.OrderPlaced!.versions), ['1', '2']);
    assert.deepEqual(summary(compareContracts(history, [placed(3, V3, { 1: toV2, 2: toV3 })])), [
      'ok OrderPlaced v3 version-added',
      'ok OrderPlaced v3 total property-removed',
      'ok OrderPlaced v3 totalCents property-added',
    ]);
    // Dropping the v1 upcaster strands the v1 events the snapshot still records.
    assert.deepEqual(
      summary(compareContracts(history, [placed(3, V3, { 2: toV3 })]).filter((f) => f.breaking)),
      ['BREAKING OrderPlaced v3 upcasters[1] upcaster-missing'],
    );
  });

  it('an unchanged bumped contract has no finding; its schema is compared at its own version', () => {
    const v2 = placed(2, V2, { 1: toV2 });
    assert.deepEqual(check([v2], [v2]), []);
    const narrowed = placed(
      2,
      z.object({
        orderId: z.string(),
        total: z.object({ cents: z.number().int(), currency: z.string().length(3) }),
      }),
      { 1: toV2 },
    );
    assert.deepEqual(summary(check([v2], [narrowed])), [
      'BREAKING OrderPlaced v2 total.currency constraint-tightened',
      'BREAKING OrderPlaced v2 total.currency constraint-tightened',
    ]);
  });

  it('lists breaking findings first', () => {
    const found = check([placed(1, V1), Paid], [placed(1, V1.extend({ note: z.string().optional() }))]);
    assert.deepEqual(summary(found), [
      'BREAKING OrderPaid v1 contract-removed',
      'ok OrderPlaced v1 note optional-property-added',
    ]);
  });
});
