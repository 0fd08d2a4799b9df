import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { contractSnapshot, defineEvent, formatContractSnapshot } from '@herald/core';
import { checkContracts, OrderShipped } from '../examples/contract-check.ts';

const page = readFileSync(new URL('../contract-compatibility.md', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'herald-docs-contracts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/contract-compatibility.md', () => {
  it('its example passes against the snapshot the command writes, and fails naming the field of a break', () => {
    const file = join(dir, 'contracts.snapshot.json');
    writeFileSync(file, formatContractSnapshot(contractSnapshot([OrderShipped])));
    checkContracts(file);

    // The committed snapshot knew a required `warehouse` that the example no longer has.
    const before = defineEvent({
      type: 'OrderShipped',
      topic: 'shipments',
      schema: z.object({ orderId: z.string(), carrier: z.enum(['dhl', 'ups']), warehouse: z.string() }),
    });
    writeFileSync(file, formatContractSnapshot(contractSnapshot([before])));
    assert.throws(
      () => checkContracts(file),
      /OrderShipped v1 warehouse: required property warehouse was removed/,
    );
  });

  it('embeds docs/examples/contract-check.ts verbatim, and shows the snapshot the command writes of it', () => {
    const example = readFileSync(new URL('../examples/contract-check.ts', import.meta.url), 'utf8');
    assert.ok(page.includes(example.trim()), 'the page embeds docs/examples/contract-check.ts');
    const json = [...page.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
    assert.equal(json.length, 1);
    // Prettier formats the page's block (short arrays on one line): the same JSON, not the same text.
    assert.deepEqual(
      JSON.parse(json[0]!),
      JSON.parse(formatContractSnapshot(contractSnapshot([OrderShipped]))),
    );
  });

  it('names every change a finding can have', () => {
    const source = readFileSync(
      new URL('../../packages/herald/src/contracts/contract-finding.ts', import.meta.url),
      'utf8',
    );
    const union = /export type ContractChange =([\s\S]*?);/.exec(source)![1]!;
    const changes = [...union.matchAll(/\| '([a-z-]+)'/g)].map((m) => m[1]!);
    assert.ok(changes.length > 20, `found the changes (${changes.length})`);
    const missing = changes.filter((change) => !page.includes(`\`${change}\``));
    assert.deepEqual(missing, [], 'every ContractChange is on the page');
  });
});
