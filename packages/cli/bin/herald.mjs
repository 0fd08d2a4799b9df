#!/usr/bin/env node
// Runs the CLI's TypeScript sources through tsx (the CLI is not built to JavaScript yet). The workspace packages
// resolve to their sources under the "@herald/source" export condition, so the bin runs itself again with it
// when it was started without (as `npx herald` does). That parent forwards SIGINT, SIGTERM and SIGHUP to the
// child (a `kill` of the parent alone must stop `herald tail` cleanly, not orphan it) and exits as the child did.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CONDITION = '--conditions=@herald/source';
const started = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
if (!started.includes(CONDITION)) {
  const child = spawn(
    process.execPath,
    [CONDITION, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('error', (error) => {
    process.stderr.write(`herald: cannot start: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { run } = await import('../src/main.ts');
  process.exitCode = await run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
}
