import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkWallets } from '../../../docs/examples/fault-kit.ts';

describe('docs/reliability.md fault-kit example', () => {
  it('runs: the idempotent wallet projection passes both checks', async () => {
    await checkWallets();
  });

  it('is embedded verbatim in docs/reliability.md', () => {
    const doc = readFileSync(new URL('../../../docs/reliability.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../../../docs/examples/fault-kit.ts', import.meta.url), 'utf8');
    assert.ok(doc.includes(example.trim()), 'docs/reliability.md embeds docs/examples/fault-kit.ts');
  });
});
