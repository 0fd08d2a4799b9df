import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseContractSnapshot, type ContractFinding } from '@herald/core';
import { run } from '../src/main.ts';
import { captureIo } from './capture-io.ts';
import { herald, tempDir } from './cli-process.ts';

// Issue 12 item 2: `herald contracts snapshot` records a fixture's contracts; `herald contracts check` fails on a
// planted breaking change, naming the field, and passes on an additive one and on a proper version bump.

const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', `${name}.ts`);
const env = { HERALD_CONTRACTS: '' };

async function inProcess(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({});
  const code = await run(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** `herald --contracts <fixture> contracts snapshot --out <file> ...more`, in process. */
const snapshotIn = (name: string, file: string, ...more: string[]) =>
  inProcess('--contracts', fixture(name), 'contracts', 'snapshot', '--out', file, ...more);

/** `herald --contracts <fixture> contracts check --snapshot <file> ...more`, in process. */
const checkIn = (name: string, file: string, ...more: string[]) =>
  inProcess('--contracts', fixture(name), 'contracts', 'check', '--snapshot', file, ...more);

describe('herald contracts snapshot / check (the real process)', () => {
  const dir = tempDir();
  const file = join(dir, 'contracts.snapshot.json');
  const check = (name: string) =>
    herald(env, '--contracts', fixture(name), 'contracts', 'check', '--snapshot', file);

  it('snapshots the fixture, then fails on the planted breaking change and passes the additive one', async () => {
    const written = await herald(
      env,
      '--contracts',
      fixture('shipments'),
      'contracts',
      'snapshot',
      '--out',
      file,
    );
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /Wrote .*contracts\.snapshot\.json: 1 event type\(s\), 1 version\(s\)/);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'));
    assert.deepEqual(Object.keys(parseContractSnapshot(text).contracts), ['cli.test.ShipmentDispatched']);

    const same = await check('shipments');
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /The contracts match /);

    const breaking = await check('shipments-breaking');
    assert.equal(breaking.code, 1, breaking.stdout);
    assert.match(
      breaking.stderr,
      /^herald: HERALD_INCOMPATIBLE_CONTRACT: 2 breaking contract change\(s\) against .*: cli\.test\.ShipmentDispatched v1 items\[\]\.sku \(property-removed\), cli\.test\.ShipmentDispatched v1 items\[\]\.code \(property-added\)/,
    );
    assert.match(breaking.stderr, /required property items\[\]\.sku was removed \(or renamed\)/);
    assert.match(breaking.stdout, /^BREAKING {3}cli\.test\.ShipmentDispatched v1 items\[\]\.sku: /m);
    assert.match(breaking.stdout, /2 breaking, 0 compatible change\(s\)/);

    const additive = await check('shipments-additive');
    assert.equal(additive.code, 0, additive.stderr);
    assert.match(
      additive.stdout,
      /^compatible cli\.test\.ShipmentDispatched v1 trackingUrl: optional property/m,
    );
    assert.match(additive.stdout, /^compatible cli\.test\.ShipmentDelivered v1: .* is new/m);
    assert.match(additive.stdout, /0 breaking, 2 compatible change\(s\)/);
    assert.match(
      additive.stderr,
      /note: .* is not up to date with the contracts: run `herald contracts snapshot --out /,
    );
    assert.equal(readFileSync(file, 'utf8'), text, 'check never writes the snapshot');
  });
});

describe('herald contracts (in-process)', () => {
  it('passes a version bump that carries old events with an upcaster, and the snapshot then keeps both versions', async () => {
    const file = join(tempDir(), 'contracts.snapshot.json');
    assert.equal((await snapshotIn('shipments', file)).code, 0);
    const bumped = await checkIn('shipments-v2', file);
    assert.equal(bumped.code, 0, bumped.err);
    assert.match(bumped.out, /compatible cli\.test\.ShipmentDispatched v2: .* version 2 is new/);
    assert.match(bumped.out, /items\[\]\.sku: required property .* \(allowed: version 2 is new/);

    const written = await snapshotIn('shipments-v2', file);
    assert.equal(written.code, 0, written.err);
    assert.match(written.out, /1 event type\(s\), 2 version\(s\)/);
    const versions = parseContractSnapshot(readFileSync(file, 'utf8')).contracts[
      'cli.test.ShipmentDispatched'
    ]!;
    assert.deepEqual(Object.keys(versions.versions), ['1', '2']);
    const again = await snapshotIn('shipments-v2', file);
    assert.match(again.out, /is up to date/);
  });

  it('--json reports the findings and still exits 1 on a breaking change', async () => {
    const file = join(tempDir(), 'snap.json');
    await snapshotIn('shipments', file);
    const result = await checkIn('shipments-breaking', file, '--json');
    assert.equal(result.code, 1);
    const report = JSON.parse(result.out) as {
      compatible: boolean;
      upToDate: boolean;
      findings: ContractFinding[];
    };
    assert.equal(report.compatible, false);
    assert.equal(report.upToDate, false);
    assert.deepEqual(
      report.findings.map((f) => [f.path, f.change, f.breaking]),
      [
        ['items[].sku', 'property-removed', true],
        ['items[].code', 'property-added', true],
      ],
    );
    assert.match(result.err, /HERALD_INCOMPATIBLE_CONTRACT/);
  });

  it('snapshot refuses to record a breaking change over an existing file unless --accept-breaking', async () => {
    const file = join(tempDir(), 'snap.json');
    await snapshotIn('shipments', file);
    const before = readFileSync(file, 'utf8');
    const refused = await snapshotIn('shipments-breaking', file);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /HERALD_INCOMPATIBLE_CONTRACT: .*items\[\]\.sku/);
    assert.equal(readFileSync(file, 'utf8'), before, 'the file is unchanged');

    const accepted = await snapshotIn('shipments-breaking', file, '--accept-breaking');
    assert.equal(accepted.code, 0, accepted.err);
    assert.match(
      accepted.err,
      /note: accepted breaking change: cli\.test\.ShipmentDispatched v1 items\[\]\.sku/,
    );
    const now = await checkIn('shipments-breaking', file);
    assert.equal(now.code, 0, now.err);
  });

  it('a missing or invalid snapshot, or no --contracts, is a usage error (exit 2) saying what to do', async () => {
    const dir = tempDir();
    const missing = await checkIn('shipments', join(dir, 'none.json'));
    assert.equal(missing.code, 2);
    assert.match(
      missing.err,
      /No contract snapshot at .*none\.json: run `herald contracts snapshot --out .*none\.json`/,
    );

    // The default is relative to the cwd (the repository root here, which keeps no snapshot).
    const defaultFile = await inProcess('--contracts', fixture('shipments'), 'contracts', 'check');
    assert.equal(defaultFile.code, 2);
    assert.match(
      defaultFile.err,
      /No contract snapshot at contracts\.snapshot\.json: run `herald contracts snapshot` to/,
    );

    const noContracts = await inProcess('contracts', 'check');
    assert.equal(noContracts.code, 2);
    assert.match(
      noContracts.err,
      /contracts check needs the event definitions: --contracts <module> or HERALD_CONTRACTS/,
    );

    const bad = join(dir, 'bad.json');
    await snapshotIn('shipments', bad);
    writeFileSync(bad, '{"format": 9}');
    const invalid = await checkIn('shipments', bad);
    assert.equal(invalid.code, 2);
    assert.match(invalid.err, /The contract snapshot .*bad\.json is not valid: format 9/);
  });
});
