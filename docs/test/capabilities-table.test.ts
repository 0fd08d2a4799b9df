import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderCapabilitiesTable, TRANSPORTS_DOC, withTable } from '../../scripts/capabilities-table.ts';

describe('docs/transports.md', () => {
  it('shows the capabilities every transport declares in code', async () => {
    const doc = readFileSync(TRANSPORTS_DOC, 'utf8');
    assert.equal(
      doc,
      await withTable(doc, await renderCapabilitiesTable()),
      'run `npm run docs:capabilities`',
    );
  });
});
