import { sleep } from './clock.ts';

// What every benchmark child process shares: talking to the orchestrator over IPC, progress reports, and the
// entry point's exit protocol.

/** Sends `message` to the orchestrator; resolves once it is written to the IPC channel. */
export function sendToParent(message: object): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(message, undefined, undefined, (error: Error | null) =>
      error ? reject(error) : resolve(),
    );
  });
}

/** Sends `{ type: 'progress', distinct }` every `intervalMs` while `read()` changes; returns the stop function. */
export function reportProgress(read: () => number, intervalMs: number): () => void {
  let reported = -1;
  const timer = setInterval(() => {
    const distinct = read();
    if (distinct === reported) return;
    reported = distinct;
    sendToParent({ type: 'progress', distinct }).catch(() => undefined);
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * Runs a child's `main`: exits 0 when it resolves, sends `{ type: 'error', message }` and exits 1 when it
 * rejects, and exits 1 at once if the orchestrator goes away (killed, timed out: nothing would read the results).
 */
export function runWorker(main: () => Promise<void>): void {
  process.on('disconnect', () => process.exit(1));
  main().then(
    () => process.exit(0),
    async (error: unknown) => {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      await sendToParent({ type: 'error', message }).catch(() => undefined);
      await sleep(50);
      process.exit(1);
    },
  );
}
