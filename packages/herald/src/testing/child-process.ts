import { spawn } from 'node:child_process';

/** A child Node process a test starts (and kills): what it wrote to stdout so far, and how it exited. */
export interface TestChild {
  /** Everything the child wrote to stdout up to now. */
  output(): string;
  /** The signal the child exited by (`null` for a normal exit). */
  readonly exited: Promise<NodeJS.Signals | null>;
  /** Kills the child with SIGKILL (nothing happens if it is gone). */
  kill(): void;
}

/**
 * Starts `node <nodeArgs> <script> <args>` with stdout collected (tests wait for lines such as `READY`) and stderr
 * passed through, so a child's failure shows in the test's output.
 */
export function spawnTestChild(
  nodeArgs: readonly string[],
  script: string,
  args: readonly string[],
): TestChild {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  return { output: () => output, exited, kill: () => void child.kill('SIGKILL') };
}
