/**
 * The token rule at start-up, as an operator meets it: `herald-console` and `npm start` both refuse a non-loopback
 * console host without `HERALD_CONSOLE_TOKEN`, with one clear line and exit code 1, before anything listens.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'herald-console-start-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, HERALD_DATA_DIR: dataDir, HERALD_BROKER: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

describe('the console at start-up', { timeout: 170_000 }, () => {
  it('herald-console refuses a public host without a token', async () => {
    const { code, output } = await run(process.execPath, ['packages/console/bin/herald-console.mjs'], {
      HERALD_CONSOLE_HOST: '0.0.0.0',
      HERALD_CONSOLE_TOKEN: '',
    });
    assert.equal(code, 1, output);
    assert.match(output, /herald-console: cannot start: .*HERALD_CONSOLE_TOKEN.*\(HERALD_CONFIG\)/);
  });

  it('npm start refuses it before starting any service', async () => {
    const { code, output } = await run('npm', ['start'], {
      HERALD_CONSOLE_HOST: '0.0.0.0',
      HERALD_CONSOLE_TOKEN: '',
      PORT: '0',
      PAYMENT_PORT: '0',
      INVENTORY_PORT: '0',
      NOTIFICATION_PORT: '0',
    });
    assert.equal(code, 1, output);
    assert.match(output, /HERALD_CONSOLE_TOKEN/);
    assert.doesNotMatch(output, /Herald shop is running/);
  });
});
