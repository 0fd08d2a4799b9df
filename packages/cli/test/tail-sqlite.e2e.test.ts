import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './cli-process.ts';
import { tailWorkflow } from './tail-workflow.ts';

tailWorkflow({
  name: 'embedded sqlite',
  url: `sqlite:${join(tempDir(), 'herald.db')}`,
  afterTail: async ({ group, stderr }) => {
    assert.match(stderr, new RegExp(`left behind for group ${group}: .*SQLite file`));
    await Promise.resolve();
  },
});
