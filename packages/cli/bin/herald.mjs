#!/usr/bin/env node
// Runs the CLI's TypeScript sources through tsx (the packages are not built to JavaScript yet).
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/main.ts');
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
