// What the CLI's tests share: the real `herald` process, the fixture contracts module, a temporary folder and the
// 'billing' router whose failures go straight to the dead-letter store.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createRouter, type Router, type Transport } from '@herald/core';
import { tempFolder } from '@herald/core/testing';

/** The repository root, the cwd the CLI process runs in. */
export const repoRoot = join(import.meta.dirname, '..', '..', '..');
/** The CLI's bin script, as `npx herald` runs it. */
export const heraldBin = join(repoRoot, 'packages', 'cli', 'bin', 'herald.mjs');
/** The fixture contracts module (`Charged`, the 'billing' group), for `--contracts` / `HERALD_CONTRACTS`. */
export const contractsModule = join(import.meta.dirname, 'fixtures', 'contracts.ts');

/** How a CLI process ended: its exit code and all it wrote. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI process with `args`, the test process's environment overlaid with `env`. */
export function herald(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [heraldBin, ...args],
      { cwd: repoRoot, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A temporary folder for a test's files, removed after the test file. */
export function tempDir(): string {
  return tempFolder('herald-cli-');
}

/** A router of the 'billing' group without retry or redelivery: a handler's failure dead-letters the event at once. */
export function deadLetteringRouter(transport: Transport, source = '/t'): Router {
  return createRouter({ transport, group: 'billing', source, retry: false, redelivery: false });
}
