import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const examples = new URL('../examples/', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, examples), 'utf8').trim();

describe('docs/getting-started.md', () => {
  // The pack test (packages/herald/test/published-packages.e2e.test.ts) compiles and runs these files in a
  // project that installed the packed packages; this keeps the page showing exactly them.
  it('every TypeScript and JSON block is a file of docs/examples', () => {
    const doc = readFileSync(new URL('../getting-started.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/^```(ts|json)\n([\s\S]*?)^```$/gm)].map((match) => match[2]!.trim());
    const files = new Map(readdirSync(examples).map((file) => [read(file), file]));
    assert.ok(blocks.length >= 5, `the page shows the examples (${blocks.length} blocks)`);
    for (const block of blocks) {
      assert.ok(files.has(block), `a block of getting-started.md is no file of docs/examples:\n${block}`);
    }
    for (const file of ['quickstart.ts', 'run-quickstart.ts', 'sqlite-consumer.ts', 'sqlite-publisher.ts']) {
      assert.ok(blocks.includes(read(file)), `getting-started.md shows docs/examples/${file}`);
    }
  });
});
