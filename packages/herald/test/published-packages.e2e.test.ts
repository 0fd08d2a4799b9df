// The packages as users get them: build, `npm pack` every public package under packages/, install the tarballs
// into a scratch project outside the repository, and run the docs examples and the CLI there under plain `node`
// (no tsx, no @herald/source condition, no NODE_OPTIONS). See docs/packaging.md.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
const STEP_TIMEOUT_MS = 240_000;

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly exports?: unknown;
  readonly bin?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly sideEffects?: boolean | readonly string[];
}
interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}
interface Workspace {
  readonly dir: string;
  readonly manifest: Manifest;
}

/** Every public package: each folder of packages/ with a package.json that is not `private`. */
function publicPackages(): Workspace[] {
  return readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest,
    }))
    .filter(({ manifest }) => manifest.private !== true);
}

/** The environment of a user's shell: no source condition, no npm variables of the `npm test` running us. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key !== 'NODE_OPTIONS' && !key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  return { ...env, ...extra };
}

async function sh(command: string, args: readonly string[], cwd: string, env = plainEnv()): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 64 << 20 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) failed: ${String(error)}\n${stdout}\n${stderr}`,
      { cause: error },
    );
  }
}

/** The export targets of a manifest's `exports` (every condition but @herald/source, which points at src/). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.entries(exports).flatMap(([key, value]) =>
    key === '@herald/source' ? [] : exportTargets(value),
  );
}

/**
 * Runs tsc in the scratch project (it emits despite errors) and sorts its errors: in the user's code or in
 * Herald's declarations (`ours`, a failure), or in other packages' declarations, which are not Herald's to fix.
 */
async function compile(app: string): Promise<{ ours: string[]; others: string[] }> {
  let output: string;
  try {
    output = (
      await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], {
        cwd: app,
        env: plainEnv(),
      })
    ).stdout;
  } catch (error) {
    output = (error as { stdout?: string }).stdout ?? String(error);
  }
  const errors = output.split('\n').filter((line) => / error TS\d+:/.test(line));
  const ours = errors.filter((line) => /^(src\/|node_modules\/@herald\/)/.test(line) || !line.includes('('));
  return { ours, others: errors.filter((line) => !ours.includes(line)) };
}

/**
 * The specifiers a user imports: the package name and its subpaths (`@herald/core/testing`), less the process
 * entries the manifest lists in `sideEffects` (`@herald/console/main` starts a server when imported).
 */
function exportSpecifiers(manifest: Manifest): string[] {
  const exports = manifest.exports;
  const subpaths = typeof exports === 'object' && exports !== null ? Object.keys(exports) : ['.'];
  const effects = Array.isArray(manifest.sideEffects) ? manifest.sideEffects : [];
  return subpaths
    .filter((subpath) => {
      const entry = (exports as Record<string, unknown> | undefined)?.[subpath];
      return !exportTargets(entry).some((target) => effects.includes(target));
    })
    .map((subpath) => join(manifest.name, subpath));
}

const workspaceVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as Manifest).version;

const timings: Record<string, number> = {};
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings[step] = Math.round(performance.now() - start);
  }
}

describe('published packages, installed outside the workspace', { timeout: 600_000 }, () => {
  const packages = publicPackages();
  const scratch = mkdtempSync(join(tmpdir(), 'herald-published-'));
  const app = join(scratch, 'app');
  let packed: Packed[] = [];

  before(
    async () => {
      assert.ok(
        relative(root, scratch).startsWith('..'),
        `the scratch project ${scratch} is outside ${root}`,
      );
      await timed('build', () => sh('npm', ['run', 'build'], root));
      const tarballs = join(scratch, 'tarballs');
      mkdirSync(tarballs);
      const workspaces = packages.flatMap(({ dir }) => ['-w', relative(root, dir)]);
      const packJson = await timed('pack', () =>
        sh('npm', ['pack', ...workspaces, '--json', '--pack-destination', tarballs], root),
      );
      packed = JSON.parse(packJson) as Packed[];

      // better-sqlite3 downloads a prebuilt binary from GitHub when it is installed, which this machine cannot
      // reach. Its install script (prebuild-install) takes one from a local folder instead: given the binary
      // the workspace built for this Node, the package installs the way it does for users, without a compile.
      const prebuilds = join(scratch, 'prebuilds');
      mkdirSync(prebuilds);
      const sqliteVersion = workspaceVersion('better-sqlite3');
      const prebuild = `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
      await sh(
        'tar',
        ['czf', join(prebuilds, prebuild), 'build/Release/better_sqlite3.node'],
        join(root, 'node_modules', 'better-sqlite3'),
      );

      mkdirSync(join(app, 'src'), { recursive: true });
      const dependencies = Object.fromEntries(
        packed.map((p) => [p.name, `file:${join(tarballs, p.filename)}`]),
      );
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify({
          name: 'herald-user',
          private: true,
          type: 'module',
          dependencies: { ...dependencies, zod: `^${workspaceVersion('zod')}` },
          devDependencies: {
            typescript: workspaceVersion('typescript'),
            '@types/node': `^${workspaceVersion('@types/node')}`,
          },
          allowScripts: { 'better-sqlite3': true },
        }),
      );
      await timed('install', () =>
        sh(
          'npm',
          ['install', '--prefer-offline', '--no-audit', '--no-fund'],
          app,
          plainEnv({ npm_config_better_sqlite3_local_prebuilds: prebuilds }),
        ),
      );

      // The user's code is the docs examples, compiled by tsc against the installed declarations (a type error
      // in a shipped .d.ts fails here: skipLibCheck is off).
      for (const file of readdirSync(join(root, 'docs', 'examples')).filter((f) => f.endsWith('.ts'))) {
        writeFileSync(join(app, 'src', file), readFileSync(join(root, 'docs', 'examples', file)));
      }
      // And every entry point of every package, so each shipped declaration file is compiled too.
      const entries = packages.flatMap(({ manifest }) => exportSpecifiers(manifest));
      writeFileSync(
        join(app, 'src', 'every-export.ts'),
        entries.map((specifier, i) => `export * as entry${i} from '${specifier}';\n`).join(''),
      );
      // The tsconfig docs/getting-started.md shows, stricter: Herald's declarations are checked too.
      const tsconfig = JSON.parse(
        readFileSync(join(root, 'docs', 'examples', 'user-tsconfig.json'), 'utf8'),
      ) as {
        compilerOptions: Record<string, unknown>;
      };
      tsconfig.compilerOptions.skipLibCheck = false;
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
      const compiled = await timed('tsc', () => compile(app));
      assert.deepEqual(compiled.ours, [], 'the examples and the shipped declarations compile');
      if (compiled.others.length > 0)
        console.log(`tsc, in other packages' declarations:\n${compiled.others.join('\n')}`);
    },
    { timeout: 600_000 },
  );

  after(() => {
    console.log(`node ${process.version}, ms per step: ${JSON.stringify(timings)}`);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('packs every public package with its build, declarations and README, and no sources or tests', () => {
    assert.deepEqual(packed.map((p) => p.name).sort(), packages.map((p) => p.manifest.name).sort());
    for (const { dir, manifest } of packages) {
      const files = new Set(packed.find((p) => p.name === manifest.name)!.files.map((f) => f.path));
      const label = manifest.name;
      for (const path of files) {
        assert.match(
          path,
          /^(dist\/|bin\/[^/]+\.mjs$|public\/|README\.md$|LICENSE$|package\.json$)/,
          `${label} ships ${path}`,
        );
        assert.doesNotMatch(path, /\.test\.|tsbuildinfo$|(^|\/)(test|fixtures)\//, `${label} ships ${path}`);
        const built = /^dist\/(.+)\.(js|d\.ts)$/.exec(path);
        if (built !== null) {
          const source = join(dir, 'src', `${built[1]!}.ts`);
          assert.ok(
            existsSync(source),
            `${label}: ${path} has no source ${relative(root, source)} (stale build?)`,
          );
        }
        if (path.endsWith('.js') && path.startsWith('dist/')) {
          assert.ok(files.has(path.replace(/\.js$/, '.d.ts')), `${label}: ${path} ships its declarations`);
        }
      }
      assert.ok(
        files.has('README.md') && files.has('package.json'),
        `${label} ships README.md and package.json`,
      );
      const targets = [...exportTargets(manifest.exports), ...Object.values(manifest.bin ?? {})];
      assert.ok(targets.length > 0, `${label} exports something`);
      for (const target of targets) {
        assert.ok(
          files.has(target.replace(/^\.\//, '')),
          `${label}: ${target} (exports/bin) is in the tarball`,
        );
      }
    }
  });

  it('installs the tarballs themselves, not packages of the same name from the registry', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string; link?: boolean }>;
    };
    const installed = Object.entries(lock.packages).filter(([path]) =>
      path.includes('node_modules/@herald/'),
    );
    assert.equal(installed.length, packed.length, 'one copy of each package, deduplicated');
    for (const [path, entry] of installed) {
      assert.match(entry.resolved ?? '', /^file:.*\.tgz$/, `${path} comes from a packed tarball`);
      assert.equal(existsSync(join(app, path, 'src')), false, `${path} holds no sources`);
    }
  });

  it('every export of every package loads under plain node, from dist, or names the optional peer it needs', async () => {
    const specifiers = packages.flatMap(({ manifest }) => exportSpecifiers(manifest));
    const script = `
      const loaded = {};
      for (const specifier of ${JSON.stringify(specifiers)}) {
        try {
          const exported = Object.keys(await import(specifier)).length;
          loaded[specifier] = { url: import.meta.resolve(specifier), exported };
        } catch (error) {
          loaded[specifier] = { code: error.code, message: error.message };
        }
      }
      console.log(JSON.stringify(loaded));`;
    const loaded = JSON.parse(
      await sh(process.execPath, ['--input-type=module', '-e', script], app),
    ) as Record<string, { url?: string; exported?: number; code?: string; message?: string }>;
    for (const { manifest } of packages) {
      const optionalPeers = Object.entries(manifest.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta.optional === true)
        .map(([name]) => name);
      for (const specifier of exportSpecifiers(manifest)) {
        const { url, exported, code, message = '' } = loaded[specifier]!;
        if (code !== undefined) {
          // e.g. @herald/sqs/testing runs fauxqs, an optional peer the user installs to test against it.
          const missing = /Cannot find package '([^']+)'/.exec(message)?.[1];
          assert.equal(code, 'ERR_MODULE_NOT_FOUND', `${specifier}: ${message}`);
          assert.ok(missing !== undefined && optionalPeers.includes(missing), `${specifier}: ${message}`);
          continue;
        }
        assert.ok(url?.includes(`/node_modules/${manifest.name}/dist/`), `${specifier} resolves to ${url}`);
        assert.ok(exported! > 0, `${specifier} exports bindings`);
      }
    }
  });

  it('runs the README quickstart (docs/examples/quickstart.ts)', async () => {
    const stdout = await sh(process.execPath, ['dist/run-quickstart.js'], app);
    assert.deepEqual(JSON.parse(stdout), ['o-1: 4200 cents']);
  });

  it('two processes share a SQLite log: one publishes, the other consumes every order', async () => {
    const db = join(scratch, 'data', 'herald.db');
    const consumer = spawn(process.execPath, ['dist/sqlite-consumer.js', db, '5'], {
      cwd: app,
      env: plainEnv(),
    });
    let output = '';
    consumer.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    consumer.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((done) => consumer.on('exit', (code) => done(code)));
    const deadline = setTimeout(() => consumer.kill(), STEP_TIMEOUT_MS);
    try {
      while (!output.includes('ready') && consumer.exitCode === null && consumer.signalCode === null) {
        await new Promise((wake) => setTimeout(wake, 20));
      }
      assert.ok(output.includes('ready'), `the consumer subscribed: ${output}`);
      const published = await sh(process.execPath, ['dist/sqlite-publisher.js', db, '5'], app);
      assert.equal(published.trim(), 'published 5');
      assert.equal(await exited, 0, `the consumer exits once it has the five orders: ${output}`);
      assert.match(output, /^received o-1 o-2 o-3 o-4 o-5$/m);
    } finally {
      clearTimeout(deadline);
      consumer.kill();
    }
  });

  it('npx herald runs the installed CLI', async () => {
    assert.match(await sh('npx', ['--no', '--', 'herald', '--help'], app), /^Usage: herald /m);
    const document = JSON.parse(
      await sh('npx', ['--no', '--', 'herald', 'asyncapi', '--contracts', './dist/quickstart.js'], app),
    ) as { asyncapi: string; channels: Record<string, { messages: Record<string, unknown> }> };
    assert.equal(document.asyncapi, '3.0.0');
    assert.deepEqual(Object.keys(document.channels.orders?.messages ?? {}), ['OrderPlaced']);
  });
});
