import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { quickstart } from '../../../docs/examples/quickstart.ts';

describe('docs examples', () => {
  it('the quickstart runs and delivers the order', async () => {
    assert.deepEqual(await quickstart(), ['o-1: 4200 cents']);
  });

  it('the README shows the quickstart as it is in docs/examples', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../../../docs/examples/quickstart.ts', import.meta.url), 'utf8');
    assert.ok(readme.includes(example.trim()), 'README.md embeds docs/examples/quickstart.ts verbatim');
  });
});
