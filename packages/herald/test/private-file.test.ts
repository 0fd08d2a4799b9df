import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensurePrivateFile } from '../src/index.ts';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

describe('ensurePrivateFile', () => {
  const root = mkdtempSync(join(tmpdir(), 'herald-private-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const umask of [0o000, 0o022, 0o277]) {
    it(`creates the file 0600 and each missing folder 0700 under umask ${umask.toString(8).padStart(3, '0')}`, () => {
      const previous = process.umask(umask);
      try {
        const base = join(root, `u${umask.toString(8)}`);
        const file = join(base, 'a', 'b', 'data.db');
        ensurePrivateFile(file);
        assert.deepEqual(
          [mode(file), mode(join(base, 'a', 'b')), mode(join(base, 'a')), mode(base)],
          ['600', '700', '700', '700'],
        );
      } finally {
        process.umask(previous);
      }
    });
  }

  it('keeps the mode of a file or folder that exists, and its content', () => {
    const folder = join(root, 'existing');
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    const file = join(folder, 'data.db');
    writeFileSync(file, 'kept');
    chmodSync(file, 0o644);
    ensurePrivateFile(file);
    assert.deepEqual([mode(file), mode(folder)], ['644', '755']);
    assert.equal(statSync(file).size, 4);
  });

  it('leaves in-memory databases alone and reports what it cannot create', () => {
    ensurePrivateFile(':memory:');
    ensurePrivateFile('');
    const blocker = join(root, 'blocker');
    writeFileSync(blocker, '');
    assert.throws(() => ensurePrivateFile(join(blocker, 'data.db')), { code: /^(ENOTDIR|EEXIST)$/ });
  });
});
