import { Logger } from 'graphile-worker';

/** graphile-worker's level for errors (its `LogLevel` is a const enum, which this project's imports cannot read). */
const ERROR: string = 'error';

/**
 * graphile-worker's logger with errors only: by default it logs every completed job at INFO, and in a benchmark
 * that measures the console rather than the queue.
 */
export const quietLogger = new Logger(() => (level: string, message: string) => {
  if (level === ERROR) process.stderr.write(`[graphile-worker] ${message}\n`);
});
