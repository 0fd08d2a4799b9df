#!/usr/bin/env node
// The `herald` command. Installed from npm, the package holds the built JavaScript (dist/) and no sources: the
// bin imports dist/main.js under plain node. In this repository's checkout (src/ present) it runs the TypeScript
// sources instead, through tsx and with the "@herald/source" export condition (see docs/packaging.md), so a
// stale or missing build is never what runs there; it starts itself again with that condition when it was
// started without (as `npx herald` does). That parent forwards SIGINT, SIGTERM and SIGHUP to the child (a `kill`
// of the parent alone must stop `herald tail` cleanly, not orphan it) and exits as the child did.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const CONDITION = '--conditions=@herald/source';
const started = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];

async function runMain(main) {
  process.exitCode = await main.run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
}

if (!existsSync(sources)) {
  await runMain(await import('../dist/main.js'));
} else if (!started.includes(CONDITION)) {
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
  await runMain(await import('../src/main.ts'));
}
