/**
 * `npm start` as an operator (Docker, systemd, a terminal) runs it: the real `npm start` command line, on a
 * temporary data folder and free ports (`PORT=0`…), with its output kept, its pids read from its banner, and
 * checks that its processes are gone and its ports free. Used by the `supervise-*.e2e.test.ts` files.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { REPO_ROOT } from '../../src/runtime/config.ts';

const START_TIMEOUT_MS = 160_000;
const STOP_BOUND_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running `npm start`: npm's process, the supervisor's pid, each service's URL and pid. */
export interface Running {
  readonly npm: ChildProcess;
  readonly supervisorPid: number;
  readonly services: Map<string, { url: string; pid: number }>;
  readonly output: string[];
  readonly exited: Promise<number | NodeJS.Signals>;
  readonly dataDir: string;
}

const started: Running[] = [];

/** Everything npm start printed so far. */
export function text(running: Running): string {
  return running.output.join('');
}

/** Polls `probe` until it returns a value; fails with the output after the start-up bound. */
export async function waitFor<T>(
  what: string,
  running: Running,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      assert.fail(
        `${what} did not happen within ${START_TIMEOUT_MS} ms; output:\n${text(running).slice(-4000)}`,
      );
    await sleep(100);
  }
}

const BANNER_LINE = /^ {2}(\S+-service) +(http:\/\/\S+) +\(pid (\d+)\)$/gm;

/**
 * The environment of a shop started by a test: `dataDir` for state and the embedded broker, free ports, no
 * broker URL, topic prefix or database from the caller's environment, and no OpenTelemetry export.
 */
export function isolatedShopEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HERALD_DATA_DIR: dataDir,
    HERALD_BROKER: '',
    HERALD_TOPIC_PREFIX: '',
    DATABASE_URL: '',
    PORT: '0',
    PAYMENT_PORT: '0',
    INVENTORY_PORT: '0',
    NOTIFICATION_PORT: '0',
    OTEL_SDK_DISABLED: 'true',
  };
}

/**
 * Runs `npm start` on a fresh data folder and free ports; resolves once its banner is printed. `env` overrides
 * the environment it is given (the console test turns tracing on; the console is off unless asked for).
 */
export async function npmStart(env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-supervise-'));
  const npm = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env: {
      ...isolatedShopEnv(dataDir),
      LOG_LEVEL: 'warn',
      HERALD_READY_TIMEOUT_MS: '150000',
      HERALD_CONSOLE: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [npm.stdout, npm.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => output.push(chunk));
  }
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    npm.once('exit', (code, signal) => resolve(signal ?? code ?? 0)),
  );
  const running: Running = { npm, supervisorPid: 0, services: new Map(), output, exited, dataDir };
  started.push(running);
  const supervisorPid = await waitFor('the banner', running, () => {
    const match = /Herald shop is running \(supervisor pid (\d+)\)/.exec(output.join(''));
    return match === null ? undefined : Number(match[1]);
  });
  for (const match of output.join('').matchAll(BANNER_LINE))
    running.services.set(match[1]!, { url: match[2]!, pid: Number(match[3]) });
  assert.equal(running.services.size, 4, text(running));
  const complete: Running = { ...running, supervisorPid };
  started[started.length - 1] = complete;
  return complete;
}

/** True while `pid` is a live process (a zombie awaiting its reaper counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** True when nothing accepts connections on the port of `url`. */
function portFree(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/**
 * Asserts that the supervisor and every service process are gone and their ports free within 30 s of `since`;
 * resolves with how long that took.
 */
export async function assertAllGone(running: Running, since: number): Promise<number> {
  const pids = [running.supervisorPid, ...[...running.services.values()].map((s) => s.pid)];
  for (;;) {
    const left = pids.filter(alive);
    const busy: string[] = [];
    for (const service of running.services.values())
      if (!(await portFree(service.url))) busy.push(service.url);
    if (left.length === 0 && busy.length === 0) return Date.now() - since;
    if (Date.now() - since > STOP_BOUND_MS)
      assert.fail(
        `still running after ${STOP_BOUND_MS} ms: pids ${left.join(', ')}, ports ${busy.join(', ')}\n` +
          text(running).slice(-4000),
      );
    await sleep(100);
  }
}

/** A JSON request. */
export async function json(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

after(() => {
  for (const running of started) {
    const pids = [
      running.npm.pid,
      running.supervisorPid,
      ...[...running.services.values()].map((s) => s.pid),
    ];
    for (const pid of pids) if (pid !== undefined && pid !== 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(running.dataDir, { recursive: true, force: true });
  }
});
