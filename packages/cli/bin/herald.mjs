#!/usr/bin/env node
// The `herald` command. Installed from npm, the package holds the built JavaScript (dist/) and no sources: the
// bin imports dist/main.js under plain node. In this repository's checkout (src/ present) it runs the TypeScript
// sources instead, through tsx and with the "@herald/source" export condition (see docs/packaging.md), so a
// stale or missing build is never what runs there; it starts itself again with that condition when it was
// started without (as `npx herald` does).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let main;
if (existsSync(sources)) {
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
  main = await import('../src/main.ts');
} else {
  main = await import('../dist/main.js');
}
process.exitCode = await main.run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
