/**
 * Passwords in `HERALD_BROKER` and `DATABASE_URL` never surface: the real `npm start` runs the shop and the console
 * on RabbitMQ as a user with a password of its own, and its state in PostgreSQL through a URL with a password
 * (the local server trusts, so any password connects). The password must appear nowhere an operator or a scraper
 * looks: the start-up output of the supervisor, the services and the console, each service's `/metrics` and
 * health reports, every read endpoint of the console's API, `herald status` (text and JSON), and the errors of
 * bad options (an unknown URL parameter, an unsupported database, credentials the broker refuses). An order flows
 * through, so handling is logged too; its payload (the order's items) must not be logged at the default level
 * either, and its user id only by the notification that names its user.
 *
 * Needs RabbitMQ with `rabbitmqctl` (to add and remove the user) and PostgreSQL; skipped without them, failed
 * under `CI=true`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SERVICES } from '../src/contracts/index.ts';
import { REPO_ROOT } from '../src/runtime/config.ts';
import { RABBITMQ_URL, rabbitmqEngine } from './e2e/engines.ts';
import { isolatedShopEnv, json, npmStart, text, waitFor } from './e2e/npm-start.ts';
import { createRunDatabase, dropRunDatabase, postgresReachable } from './e2e/state.ts';

const execFileAsync = promisify(execFile);
const HERALD_BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'herald.mjs');
const CONSOLE_LINE = /^ {2}herald-console +(http:\/\/\S+) +\(pid (\d+)\)$/m;

/** The passwords of this run: long and random, so a match can only be a leak. */
const BROKER_PASSWORD = `brokerpw${randomBytes(8).toString('hex')}`;
const DATABASE_PASSWORD = `dbpw${randomBytes(8).toString('hex')}`;
const SECRETS = [BROKER_PASSWORD, DATABASE_PASSWORD];
const PAYLOAD_MARKER = `payloadmark${randomBytes(4).toString('hex')}`;
const USER = `herald-mask-${randomBytes(4).toString('hex')}`;
const PREFIX = `secretmask${Date.now().toString(36)}-`;

/** Asserts that no password of this run appears in `text`, which came from `where`. */
function assertMasked(where: string, shown: string): void {
  for (const secret of SECRETS) {
    assert.ok(!shown.includes(secret), `${where} shows a password:\n${shown.slice(0, 4000)}`);
  }
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await execFileAsync('rabbitmqctl', args, { timeout: 60_000 });
}

async function skipReason(): Promise<string | undefined> {
  const broker = await rabbitmqEngine.unreachable();
  if (broker !== undefined) return broker;
  const reasons: string[] = [];
  if (!(await postgresReachable())) reasons.push('PostgreSQL is not reachable');
  try {
    await rabbitmqctl('list_users', '--quiet');
  } catch {
    reasons.push('rabbitmqctl cannot reach the broker (it adds the test user)');
  }
  if (reasons.length === 0) return undefined;
  if (process.env.CI === 'true') throw new Error(`${reasons.join('; ')} (CI=true: failing, not skipping)`);
  return reasons.join('; ');
}

/** `herald` with `args` on the environment `env`; resolves with its exit code and both outputs, joined. */
async function herald(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [HERALD_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The shop run with `env` until it exits by itself (bad options); resolves with all it printed. */
async function failingStart(env: NodeJS.ProcessEnv): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-secret-masking-'));
  try {
    const { stdout, stderr } = await execFileAsync('npm', ['start'], {
      cwd: REPO_ROOT,
      env: { ...isolatedShopEnv(dataDir), HERALD_CONSOLE: 'off', ...env },
      timeout: 120_000,
    });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const skip = await skipReason();

describe('passwords in broker and database URLs are masked everywhere', { skip }, () => {
  let database: { name: string; url: string } | undefined;
  after(async () => {
    if (skip !== undefined) return;
    await rabbitmqctl('delete_user', USER).catch(() => undefined);
    if (database !== undefined) await dropRunDatabase(database.name);
    await rabbitmqEngine.cleanUp(PREFIX);
  });

  it('in start-up output, /metrics, health, the console API and herald status', async () => {
    await rabbitmqctl('add_user', USER, BROKER_PASSWORD);
    await rabbitmqctl('set_permissions', '-p', '/', USER, '.*', '.*', '.*');
    database = await createRunDatabase();
    const databaseUrl = new URL(database.url);
    databaseUrl.password = DATABASE_PASSWORD;
    const broker = new URL(RABBITMQ_URL);
    broker.username = USER;
    broker.password = BROKER_PASSWORD;
    // The partition count the engine's clean-up removes.
    broker.search = new URL(rabbitmqEngine.brokerUrl('')).search;
    const env = {
      HERALD_BROKER: broker.toString(),
      HERALD_TOPIC_PREFIX: PREFIX,
      DATABASE_URL: databaseUrl.toString(),
    };

    const running = await npmStart({
      ...env,
      HERALD_CONSOLE: 'on',
      HERALD_CONSOLE_PORT: '0',
      OTEL_SDK_DISABLED: '',
      LOG_LEVEL: 'info',
    });
    try {
      const orderUrl = running.services.get('order-service')!.url;
      const placed = await json(`${orderUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: PAYLOAD_MARKER, items: [{ sku: 'KB-101', quantity: 3 }] }),
      });
      assert.equal(placed.status, 202, JSON.stringify(placed.body));
      const orderId = placed.body.orderId as string;
      await waitFor('the order to settle', running, async () => {
        const status = (await json(`${orderUrl}/orders/${orderId}`)).body.status as string;
        return status === 'PENDING' ? undefined : status;
      });

      for (const [name, { url }] of running.services) {
        const metrics = await fetch(`${url}/metrics`);
        assert.equal(metrics.status, 200, `${name} serves /metrics`);
        assertMasked(`${name} /metrics`, await metrics.text());
        for (const path of ['/health/live', '/health/ready'])
          assertMasked(`${name} ${path}`, await (await fetch(`${url}${path}`)).text());
      }

      const consoleUrl = CONSOLE_LINE.exec(text(running))?.[1];
      assert.ok(consoleUrl, `the console's URL is printed:\n${text(running)}`);
      const info = await json(`${consoleUrl}/api/info`);
      assert.equal(info.status, 200);
      assert.match(
        JSON.stringify(info.body),
        new RegExp(`${USER}:\\*\\*\\*@`),
        'the broker is shown, masked',
      );
      for (const path of [
        '/api/info',
        '/api/topology',
        '/api/events?limit=100',
        '/api/dead-letters/groups',
        `/api/timeline/${orderId}`,
      ]) {
        const response = await fetch(`${consoleUrl}${path}`);
        assert.equal(response.status, 200, path);
        assertMasked(`the console's ${path}`, await response.text());
      }

      for (const args of [
        ['status'],
        ['status', '--json', '--group', SERVICES.payment.group, '--topic', 'orders'],
      ]) {
        const status = await herald(env, ...args);
        assert.equal(status.code, 0, status.output);
        assertMasked(`herald ${args.join(' ')}`, status.output);
      }

      assertMasked('the output of npm start (supervisor, services, console)', text(running));
      assert.match(
        text(running),
        /"database":"postgres:\/\/postgres:\*\*\*@/,
        'the database is logged, masked',
      );
      // Handlers log what they did (the notification names its user); the event's data as a whole is never logged.
      const payloadLines = text(running)
        .split('\n')
        .filter((line) => line.includes('"quantity":3') || line.includes(PAYLOAD_MARKER))
        .filter((line) => !line.includes(`notify ${PAYLOAD_MARKER}: `));
      assert.deepEqual(payloadLines, [], 'no event payload is logged at the default level');
    } finally {
      running.npm.kill('SIGTERM');
      await running.exited;
    }
    assertMasked('the output of npm start after it stopped', text(running));
  });

  it('in the errors of bad options and of refused credentials', async () => {
    const brokerWith = (password: string, query = '') => {
      const url = new URL(RABBITMQ_URL);
      url.username = USER;
      url.password = password;
      url.search = query;
      return url.toString();
    };
    const unknownParameter = await failingStart({
      HERALD_BROKER: brokerWith(BROKER_PASSWORD, '?sslmode=require'),
    });
    assert.match(unknownParameter, /unknown parameter "sslmode"/);
    assertMasked('npm start with an unknown broker URL parameter', unknownParameter);

    const tlsOnPlain = await failingStart({ HERALD_BROKER: brokerWith(BROKER_PASSWORD, '?caFile=/ca.pem') });
    assert.match(tlsOnPlain, /"caFile" is a TLS one/);
    assertMasked('npm start with a TLS parameter on amqp://', tlsOnPlain);

    const badDatabase = await failingStart({
      DATABASE_URL: `mysql://app:${DATABASE_PASSWORD}@127.0.0.1:3306/shop`,
    });
    assert.match(badDatabase, /DATABASE_URL/);
    assertMasked('npm start with an unsupported DATABASE_URL', badDatabase);

    // The broker refuses the credentials (the test user was removed or never had this password).
    const refused = await herald(
      { HERALD_BROKER: brokerWith(`${BROKER_PASSWORD}x`) },
      'status',
      '--group',
      SERVICES.payment.group,
    );
    assert.notEqual(refused.code, 0, refused.output);
    assertMasked('herald status with refused credentials', refused.output);

    const cliBadUrl = await herald({}, 'status', '--broker', brokerWith(BROKER_PASSWORD, '?prefetch=lots'));
    assert.match(cliBadUrl.output, /prefetch/);
    assertMasked('herald status --broker with a bad parameter', cliBadUrl.output);
  });
});
