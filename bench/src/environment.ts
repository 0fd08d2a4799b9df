import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { natsConnection } from './peers/jetstream-connection.ts';
import { redisConnection } from './peers/redis-connection.ts';

/** The packages whose versions the B1 report states. */
const B1_PACKAGES = [
  '@herald/core',
  '@herald/sqlite',
  'better-sqlite3',
  'bullmq',
  'ioredis',
  '@nats-io/transport-node',
  '@nats-io/jetstream',
  'tsx',
];

export interface RedisInfo {
  readonly version: string;
  readonly save: string;
  readonly appendonly: string;
  readonly appendfsync: string;
}

export interface NatsInfo {
  readonly version: string;
  readonly jetstream: boolean;
}

/** The machine, Node and the versions of the packages a suite uses. */
export interface Machine {
  readonly date: string;
  readonly node: string;
  readonly os: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly packages: Readonly<Record<string, string>>;
  /**
   * Where the benchmark processes load Herald from: `dist` (the built JavaScript users install) or `source` (its
   * TypeScript through tsx, as every run before 2026-12-04 did; absent in those results).
   */
  readonly heraldFrom?: 'dist' | 'source';
}

/** How `heraldFrom` reads in a report. */
export function heraldFromLabel(from: Machine['heraldFrom']): string {
  return from === 'dist'
    ? 'built `dist/` (plain JavaScript, as installed)'
    : 'TypeScript sources through tsx (`@herald/source` condition)';
}

/** B1's environment: the machine, Redis and NATS. */
export interface Environment extends Machine {
  readonly redis: RedisInfo | undefined;
  readonly nats: NatsInfo | undefined;
}

function packageVersion(root: string, name: string): string {
  try {
    const json = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return json.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function cpuModel(): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

async function redisInfo(): Promise<RedisInfo | undefined> {
  const redis = redisConnection();
  try {
    const version = /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1];
    const config = async (name: string): Promise<string> =>
      ((await redis.config('GET', name)) as string[])[1] ?? '';
    return {
      version: version ?? 'unknown',
      save: await config('save'),
      appendonly: await config('appendonly'),
      appendfsync: await config('appendfsync'),
    };
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export async function natsInfo(): Promise<NatsInfo | undefined> {
  try {
    const nc = await natsConnection();
    const info = { version: nc.info?.version ?? 'unknown', jetstream: nc.info?.jetstream === true };
    await nc.close();
    return info;
  } catch {
    return undefined;
  }
}

/**
 * The commit the benchmark ran on (`git rev-parse HEAD`), with `+dirty` when the work tree had uncommitted
 * changes, so a regression can be traced to a commit; `unknown` outside a git checkout.
 */
export function gitCommit(root: string): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', root, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const head = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}+dirty`;
  } catch {
    return 'unknown';
  }
}

/** The machine and the versions of `packages`, read at the start of a suite. */
export function readMachine(root: string, packages: readonly string[]): Machine {
  return {
    date: new Date().toISOString(),
    node: process.version,
    os: `Linux ${release()}`,
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    packages: Object.fromEntries(packages.map((name) => [name, packageVersion(root, name)])),
    // The children resolve `@herald/*` as this process does (bench/src/child.ts, shop spawn-service.ts).
    heraldFrom: import.meta.resolve('@herald/core').includes('/dist/') ? 'dist' : 'source',
  };
}

/** B1's versions, servers and machine, read at the start of a run. */
export async function readEnvironment(root: string): Promise<Environment> {
  return { ...readMachine(root, B1_PACKAGES), redis: await redisInfo(), nats: await natsInfo() };
}
