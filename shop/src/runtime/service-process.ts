import { serviceLogger, type Logger } from './logger.ts';

/** A started service, as its process entry sees it. */
export interface RunningService {
  /** Where its HTTP API listens. */
  readonly url: string;
  /** Stops it gracefully: HTTP first, then consumers, relay, transport, database. */
  close(): Promise<void>;
}

/** The message a service process sends its parent (`npm start`, the end-to-end test) once it serves. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly service: string;
  readonly url: string;
  readonly pid: number;
}

/**
 * Runs one service as a process: starts it, tells the parent it is ready (IPC, when there is a parent), and
 * shuts it down gracefully on SIGTERM, SIGINT, SIGHUP or the parent going away. A repeated signal while stopping is
 * ignored (Ctrl-C reaches the whole process group and `npm start` forwards SIGTERM too); a shutdown that takes
 * longer than `shutdownTimeoutMs` exits with code 1.
 */
export function runServiceProcess(
  service: string,
  start: (log: Logger) => Promise<RunningService>,
  options: { shutdownTimeoutMs?: number } = {},
): void {
  const log = serviceLogger(service);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 15_000;
  let running: RunningService | undefined;
  let stopping = false;

  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    setTimeout(() => {
      log.error(`shutdown took longer than ${shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, shutdownTimeoutMs).unref();
    try {
      await running?.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error('shutdown failed', { error });
      process.exit(1);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  // The parent died without signalling us: do not linger as an orphan.
  process.on('disconnect', () => void stop('parent gone'));

  start(log).then(
    (started) => {
      running = started;
      if (stopping) {
        void started.close().finally(() => process.exit(0));
        return;
      }
      log.info(`ready at ${started.url}`);
      const ready: ReadyMessage = { type: 'ready', service, url: started.url, pid: process.pid };
      process.send?.(ready);
    },
    (error: unknown) => {
      log.error('failed to start', {
        error: error instanceof Error ? (error.stack ?? error.message) : error,
      });
      process.exit(1);
    },
  );
}
