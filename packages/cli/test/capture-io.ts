import { PassThrough, Readable } from 'node:stream';
import type { Io } from '../src/cli-context.ts';

/** An {@link Io} whose output is collected in strings, for tests that call `run` in-process. */
export interface CapturedIo extends Io {
  readonly out: () => string;
  readonly err: () => string;
}

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

/** A captured Io with `env` (nothing of the test process's own HERALD_* variables) and optional stdin text. */
export function captureIo(
  env: NodeJS.ProcessEnv,
  options: { stdin?: string; signal?: AbortSignal } = {},
): CapturedIo {
  const stdout = sink();
  const stderr = sink();
  return {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env,
    ...(options.stdin === undefined ? {} : { stdin: Readable.from([options.stdin]) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    out: stdout.text,
    err: stderr.text,
  };
}

/** Waits for `check` with a deadline (no timed assertion: the deadline only bounds a hang). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
