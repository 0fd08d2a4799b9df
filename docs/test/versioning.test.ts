import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { memory } from '@herald/core';
import { bothVersions } from '../examples/versioned-contract.ts';

describe('docs/versioning.md', () => {
  it('shows docs/examples/versioned-contract.ts, which hands a v1 and a v2 event to the v2 handler as v2', async () => {
    const doc = readFileSync(new URL('../versioning.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/versioned-contract.ts', import.meta.url), 'utf8');
    assert.ok(doc.includes('```ts\n' + example.trim() + '\n```'), 'the page shows the example file as it is');
    const transport = memory();
    assert.deepEqual(await bothVersions(transport), ['o-1: 1250 EUR', 'o-2: 990 USD']);
    await transport.close();
  });
});
