#!/usr/bin/env node
// Runs the CLI's TypeScript sources through tsx (the CLI is not built to JavaScript yet). The workspace packages
// resolve to their sources under the "@herald/source" export condition, so the bin runs itself again with it
// when it was started without (as `npx herald` does).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CONDITION = '--conditions=@herald/source';
const started = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
if (!started.includes(CONDITION)) {
  const result = spawnSync(
    process.execPath,
    [CONDITION, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  if (result.signal !== null) process.kill(process.pid, result.signal);
  process.exit(result.status ?? 1);
}
const { register } = await import('tsx/esm/api');
register();
const { run } = await import('../src/main.ts');
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
