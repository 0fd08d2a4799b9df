import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../src/runtime/config.ts';
import { isolatedShopEnv } from './e2e/npm-start.ts';

/**
 * Issue 9 item 4: a bad option fails `npm start` at start-up, with exit code 1 and a message naming the option
 * (and never echoing a password), before any service is left running.
 */
const EXIT_BOUND_MS = 90_000;

function start(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bad-config-'));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@herald/source', '--import', 'tsx', 'shop/src/start.ts'],
      {
        cwd: REPO_ROOT,
        env: { ...isolatedShopEnv(dataDir), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `npm start with ${JSON.stringify(env)} did not exit within ${EXIT_BOUND_MS} ms:\n${output}`,
        ),
      );
    }, EXIT_BOUND_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

const cases: { env: Record<string, string>; names: RegExp; secret?: string }[] = [
  { env: { PORT: 'abc' }, names: /PORT/ },
  { env: { PAYMENT_PORT: '70000' }, names: /PAYMENT_PORT/ },
  { env: { HERALD_BROKER: 'bogus://somewhere' }, names: /HERALD_BROKER.*(sqlite|kafka|amqp|nats|sqs)/s },
  {
    env: { HERALD_BROKER: 'amqp://guest:hunter2secret@127.0.0.1:notaport' },
    names: /HERALD_BROKER/,
    secret: 'hunter2secret',
  },
  { env: { HERALD_TOPIC_PREFIX: 'bad prefix!' }, names: /HERALD_TOPIC_PREFIX/ },
  { env: { HERALD_RESTART_LIMIT: '0' }, names: /HERALD_RESTART_LIMIT/ },
  { env: { HERALD_READY_TIMEOUT_MS: 'soon' }, names: /HERALD_READY_TIMEOUT_MS/ },
  { env: { HERALD_HTTP_TIMEOUT_MS: '-5' }, names: /HERALD_HTTP_TIMEOUT_MS/ },
  {
    env: { DATABASE_URL: 'mysql://root:toor-secret@127.0.0.1/shop' },
    names: /DATABASE_URL/,
    secret: 'toor-secret',
  },
];

describe('bad configuration fails npm start at start-up, naming the option (issue 9 item 4)', () => {
  for (const c of cases) {
    it(
      Object.entries(c.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
      async () => {
        const { code, output } = await start(c.env);
        assert.equal(code, 1, `exit code 1; output:\n${output}`);
        assert.match(output, c.names, 'the message names the option');
        assert.doesNotMatch(output, /listening|\(pid \d+\)\s*$/m, 'no service reported running');
        if (c.secret !== undefined)
          assert.ok(!output.includes(c.secret), `the password is masked:\n${output}`);
      },
    );
  }
});
