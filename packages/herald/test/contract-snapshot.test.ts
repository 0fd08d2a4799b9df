import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  contractSnapshot,
  defineEvent,
  formatContractSnapshot,
  HeraldError,
  parseContractSnapshot,
} from '@herald/core';
import { assertContractsCompatible, ContractCompatibilityError, tempFolder } from '@herald/core/testing';

const dir = tempFolder('herald-contracts-');

const Shipped = defineEvent({
  type: 'ShipmentDispatched',
  topic: 'shipments',
  schema: z.object({ shipmentId: z.string(), items: z.array(z.object({ sku: z.string() })) }),
});
const Delivered = defineEvent({
  type: 'ShipmentDelivered',
  topic: 'shipments',
  schema: z.object({ shipmentId: z.string(), at: z.iso.datetime() }),
});
const ShippedV2 = defineEvent({
  type: 'ShipmentDispatched',
  topic: 'shipments',
  version: 2,
  schema: z.object({ shipmentId: z.string(), lines: z.array(z.object({ sku: z.string() })) }),
  upcasters: {
    1: (d) => ({ shipmentId: (d as { shipmentId: string }).shipmentId, lines: (d as { items: [] }).items }),
  },
});

function rejection(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected a throw');
}

describe('contract snapshot', () => {
  it('is pretty JSON with a stable order and a trailing newline: format, contracts by type, versions', () => {
    const text = formatContractSnapshot(contractSnapshot([Shipped, Delivered]));
    assert.ok(text.endsWith('}\n'));
    assert.ok(
      text.startsWith(
        '{\n  "format": 1,\n  "contracts": {\n    "ShipmentDelivered": {\n      "topic": "shipments",\n      "versions": {\n        "1": {',
      ),
    );
    assert.equal(
      formatContractSnapshot(contractSnapshot([Delivered, Shipped])),
      text,
      'definition order does not matter',
    );
    const parsed = parseContractSnapshot(text);
    assert.deepEqual(Object.keys(parsed.contracts), ['ShipmentDelivered', 'ShipmentDispatched']);
    const schema = parsed.contracts.ShipmentDelivered!.versions['1'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(schema), [...Object.keys(schema)].sort(), 'schema keys sorted');
    assert.equal(formatContractSnapshot(parsed), text, 'parse and format round-trip');
  });

  it('keeps older versions its upcasters still reach, and drops what no definition reads', () => {
    const v1 = contractSnapshot([Shipped, Delivered]);
    const v2 = contractSnapshot([ShippedV2], v1);
    assert.deepEqual(Object.keys(v2.contracts), ['ShipmentDispatched'], 'a removed type is not carried over');
    assert.deepEqual(
      v2.contracts.ShipmentDispatched!.versions['1'],
      v1.contracts.ShipmentDispatched!.versions['1'],
    );
    assert.match(JSON.stringify(v2.contracts.ShipmentDispatched!.versions['2']), /"lines"/);
    const noUpcaster = defineEvent({
      type: Shipped.type,
      topic: 'shipments',
      version: 2,
      schema: ShippedV2.schema,
    });
    assert.deepEqual(Object.keys(contractSnapshot([noUpcaster], v1).contracts.ShipmentDispatched!.versions), [
      '2',
    ]);
  });

  it('refuses text that is no snapshot with HERALD_CONFIG naming the file', () => {
    for (const [text, why] of [
      ['{', /not JSON/],
      ['[]', /not a JSON object/],
      ['{"format":2,"contracts":{}}', /format 2, this Herald reads format 1/],
      ['{"format":1,"contracts":{"A":{"topic":"t","versions":{"v1":{}}}}}', /A has version "v1"/],
      ['{"format":1,"contracts":{"A":{"versions":{}}}}', /A is not \{ "topic"/],
    ] as const) {
      const error = rejection(() => parseContractSnapshot(text, 'x.json'));
      assert.ok(error instanceof HeraldError && error.code === 'HERALD_CONFIG', String(error));
      assert.match(error.message, /^The contract snapshot x\.json is not valid: /);
      assert.match(error.message, why);
    }
  });

  it('refuses two definitions of one type', () => {
    const other = defineEvent({ ...Shipped, topic: 'other' });
    const error = rejection(() => contractSnapshot([Shipped, other]));
    assert.ok(error instanceof HeraldError && error.code === 'HERALD_CONFIG');
  });
});

describe('assertContractsCompatible', () => {
  const file = join(dir, 'contracts.snapshot.json');
  writeFileSync(file, formatContractSnapshot(contractSnapshot([Shipped])));

  it('passes an additive change and returns its findings', () => {
    const found = assertContractsCompatible([Shipped, Delivered], file);
    assert.deepEqual(
      found.map((f) => `${f.type} ${f.change}`),
      ['ShipmentDelivered contract-added'],
    );
  });

  it('throws an AssertionError naming each breaking field', () => {
    const renamed = defineEvent({ type: Shipped.type, topic: 'shipments', schema: ShippedV2.schema });
    const error = rejection(() => assertContractsCompatible([renamed], file));
    assert.ok(error instanceof ContractCompatibilityError && error instanceof AssertionError);
    assert.match(
      error.message,
      /^HERALD_INCOMPATIBLE_CONTRACT: 2 breaking contract change\(s\) against .*contracts\.snapshot\.json/,
    );
    assert.match(error.message, /ShipmentDispatched v1 items: required property items was removed/);
    assert.match(
      error.message,
      /ShipmentDispatched v1 lines: required property lines was added without a default/,
    );
    assert.deepEqual(
      error.findings.map((f) => f.path),
      ['items', 'lines'],
    );
  });

  it('takes the snapshot as an object or a file URL too', () => {
    const snapshot = contractSnapshot([Shipped]);
    assert.deepEqual(assertContractsCompatible([Shipped], snapshot), []);
    assert.ok(rejection(() => assertContractsCompatible([], snapshot)) instanceof ContractCompatibilityError);
    assert.deepEqual(
      assertContractsCompatible([ShippedV2], new URL(`file://${file}`)).at(0)?.change,
      'version-added',
    );
  });

  it('fails on a missing file, telling the developer to run the snapshot command', () => {
    const error = rejection(() =>
      assertContractsCompatible([Shipped], join(dir, 'none.json'), {
        snapshotCommand: 'npm run contracts:snapshot',
      }),
    );
    assert.match(
      error.message,
      /No contract snapshot at .*none\.json \(ENOENT\): run `npm run contracts:snapshot`/,
    );
  });

  it('with upToDate, fails on a compatible change not recorded yet, and passes once it is', () => {
    const stale = rejection(() =>
      assertContractsCompatible([Shipped, Delivered], file, {
        upToDate: true,
        snapshotCommand: 'npm run contracts:snapshot',
      }),
    );
    assert.ok(stale instanceof ContractCompatibilityError);
    assert.match(
      stale.message,
      /compatible with .*, but it is not up to date: run `npm run contracts:snapshot` and commit it/,
    );
    assert.match(stale.message, /ShipmentDelivered v1: ShipmentDelivered is new/);
    const fresh = join(dir, 'fresh.json');
    writeFileSync(fresh, formatContractSnapshot(contractSnapshot([Shipped, Delivered])));
    assert.equal(assertContractsCompatible([Shipped, Delivered], fresh, { upToDate: true }).length, 0);
    writeFileSync(fresh, JSON.stringify(contractSnapshot([Shipped, Delivered])));
    assert.match(
      rejection(() => assertContractsCompatible([Shipped, Delivered], fresh, { upToDate: true })).message,
      /No contract changed: the file is not as the command writes it/,
    );
  });
});
