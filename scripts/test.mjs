#!/usr/bin/env node
// Runs the test files with node's test runner under tsx.
//   node scripts/test.mjs            every test: unit, integration (*.int.test.ts) and end-to-end (*.e2e.test.ts)
//   node scripts/test.mjs --unit     unit tests only: in-process, milliseconds, no servers
//   node scripts/test.mjs FILE...    the given files
//   --file-timeout=MS                each file's bound (default 600000: 10 min); `none` for files that bound
//                                    themselves, as the soak does (its length is HERALD_SOAK_MINUTES)
// Files named *.exclusive.e2e.test.ts stop shared servers (a broker, PostgreSQL): they run in a second phase,
// after every other file, one at a time. The exit code is non-zero if either phase failed.
// Node 20's runner does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const explicit = args.filter((a) => !a.startsWith('--'));
const fileTimeout =
  args.find((a) => a.startsWith('--file-timeout='))?.slice('--file-timeout='.length) ?? '600000';
if (fileTimeout !== 'none' && !/^[1-9][0-9]*$/.test(fileTimeout)) {
  console.error(`--file-timeout: expected milliseconds or "none", got "${fileTimeout}"`);
  process.exit(2);
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const isUnit = (file) => !/\.(int|e2e)\.test\.ts$/.test(file);
const files =
  explicit.length > 0
    ? explicit
    : ['packages', 'shop', 'bench', 'docs']
        .flatMap((dir) => findTests(join(root, dir)))
        .filter((file) => !unitOnly || isUnit(file))
        .map((file) => relative(root, file))
        .sort();

if (files.length === 0) {
  console.error('No test files found.');
  process.exit(1);
}

// `@herald/source` resolves the workspace packages to their TypeScript sources (see docs/packaging.md), so tests
// need no build; NODE_OPTIONS passes it on to every process a test spawns.
const SOURCE_CONDITION = '--conditions=@herald/source';
const nodeOptions = [process.env.NODE_OPTIONS, SOURCE_CONDITION].filter(Boolean).join(' ');
const isExclusive = (file) => file.endsWith('.exclusive.e2e.test.ts');
const phases = [
  { files: files.filter((file) => !isExclusive(file)), concurrency: 2 },
  { files: files.filter(isExclusive), concurrency: 1 },
].filter((phase) => phase.files.length > 0);

let status = 0;
for (const phase of phases) {
  const result = spawnSync(
    process.execPath,
    [
      SOURCE_CONDITION,
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${phase.concurrency}`,
      ...(fileTimeout === 'none' ? [] : [`--test-timeout=${fileTimeout}`]),
      ...phase.files,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: nodeOptions } },
  );
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
