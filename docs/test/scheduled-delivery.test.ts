import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { memory } from '@herald/core';
import { sqlite } from '@herald/sqlite';
import { remindLater } from '../examples/scheduled-reminder.ts';

const dir = mkdtempSync(join(tmpdir(), 'herald-sched-doc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/scheduled-delivery.md', () => {
  it('shows docs/examples/scheduled-reminder.ts, whose reminder runs after its delay, on memory and sqlite', async () => {
    const doc = readFileSync(new URL('../scheduled-delivery.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/scheduled-reminder.ts', import.meta.url), 'utf8');
    assert.ok(doc.includes('```ts\n' + example.trim() + '\n```'), 'the page shows the example file as it is');
    for (const transport of [memory(), sqlite({ path: join(dir, 'log.db') })]) {
      const elapsed = await remindLater(transport, 400);
      assert.ok(elapsed >= 400, `${transport.name}: ran ${elapsed} ms after the publish, not before 400 ms`);
      await transport.close();
    }
  });
});
