import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { defineEvent, type EventDefinition } from '@herald/core';
import { assertContractsCompatible, ContractCompatibilityError } from '@herald/core/testing';
import * as contracts from '../src/contracts/index.ts';
import { REPO_ROOT } from '../src/runtime/config.ts';

// The shop keeps its contracts in shop/contracts.snapshot.json (written by `npm run contracts:snapshot`). A change
// that breaks old consumers or old events fails here, naming the field; a compatible change fails too until the
// snapshot records it, so the committed file never drifts from the contracts.

const SNAPSHOT = join(REPO_ROOT, 'shop', 'contracts.snapshot.json');
const SNAPSHOT_COMMAND = 'npm run contracts:snapshot';

const definitions: EventDefinition[] = (Object.values(contracts) as unknown[]).filter(
  (value): value is EventDefinition =>
    typeof value === 'object' && value !== null && 'topic' in value && 'type' in value && 'schema' in value,
);

describe('the shop contracts against shop/contracts.snapshot.json', () => {
  it('are compatible with the committed snapshot, which is up to date', () => {
    assertContractsCompatible(definitions, SNAPSHOT, { upToDate: true, snapshotCommand: SNAPSHOT_COMMAND });
  });

  it('fail the check on a planted breaking change, naming the field', () => {
    const withoutReason = defineEvent({
      type: contracts.OrderCancelled.type,
      topic: contracts.OrderCancelled.topic,
      schema: contracts.OrderCancelled.schema.omit({ reason: true }),
      ...(contracts.OrderCancelled.version === undefined
        ? {}
        : { version: contracts.OrderCancelled.version }),
      ...(contracts.OrderCancelled.upcasters === undefined
        ? {}
        : { upcasters: contracts.OrderCancelled.upcasters }),
    });
    const planted = definitions.map((d) => (d === contracts.OrderCancelled ? withoutReason : d));
    assert.throws(
      () => assertContractsCompatible(planted, SNAPSHOT, { snapshotCommand: SNAPSHOT_COMMAND }),
      (error: unknown) =>
        error instanceof ContractCompatibilityError &&
        /OrderCancelled v\d+ reason: required property reason was removed/.test(error.message) &&
        error.findings.filter((f) => f.breaking).length === 1,
    );
  });

  it('pass `npm run contracts:check` (the herald CLI on the committed snapshot)', async () => {
    const scripts = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    const [bin, ...args] = scripts['contracts:check']!.split(' ');
    assert.equal(bin, 'herald');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(REPO_ROOT, 'packages/cli/bin/herald.mjs'), ...args],
      { cwd: REPO_ROOT },
    );
    assert.match(stdout, /The contracts match shop\/contracts\.snapshot\.json\./);
  });
});
