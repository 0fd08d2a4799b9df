import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReadyMessage } from './service-process.ts';

/** The four services and the entry of each. */
export const SERVICE_ENTRIES = {
  'order-service': fileURLToPath(new URL('../order/main.ts', import.meta.url)),
  'payment-service': fileURLToPath(new URL('../payment/main.ts', import.meta.url)),
  'inventory-service': fileURLToPath(new URL('../inventory/main.ts', import.meta.url)),
  'notification-service': fileURLToPath(new URL('../notification/main.ts', import.meta.url)),
} as const;

/** The name of one of the four services. */
export type ServiceName = keyof typeof SERVICE_ENTRIES;

/** The web console (`@herald/console`'s process entry), which `npm start` supervises like a service. */
export const CONSOLE_ENTRY = fileURLToPath(import.meta.resolve('@herald/console/main'));

/** A process `npm start` supervises: one of the services, or the console. */
export type ChildName = ServiceName | 'herald-console';

const ENTRIES: Record<ChildName, string> = { ...SERVICE_ENTRIES, 'herald-console': CONSOLE_ENTRY };

/** A service running as a child process. */
export interface ServiceChild {
  readonly name: ChildName;
  readonly process: ChildProcess;
  /** Resolves with the service's URL once it serves; rejects if it exits first or takes longer than the timeout. */
  readonly ready: Promise<string>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

/** The loader that runs `.ts` entries in a child (`node --import tsx`). */
const TSX = import.meta.resolve('tsx');
/** Resolves the `@herald/*` packages to their TypeScript sources (the `@herald/source` export condition), not `dist/`. */
const SOURCE_CONDITION = '--conditions=@herald/source';
/**
 * The children resolve `@herald/*` as this process does: from the sources when it runs with the source condition
 * (`npm start`, the tests), from the built `dist/` otherwise (the benchmarks, which measure what users install).
 */
const CONDITIONS = process.execArgv.includes(SOURCE_CONDITION) ? [SOURCE_CONDITION] : [];

/**
 * Starts one service as a child process running its `main.ts` with `env`, connected by IPC so it reports its URL
 * once ready (and stops by itself if this process dies).
 */
export function spawnService(
  name: ChildName,
  options: { env: NodeJS.ProcessEnv; stdio?: 'inherit' | 'pipe'; readyTimeoutMs?: number },
): ServiceChild {
  const child = fork(ENTRIES[name], [], {
    env: options.env,
    execArgv: [...CONDITIONS, '--import', TSX],
    stdio:
      options.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? code ?? 0));
  });
  const ready = new Promise<string>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (message: ReadyMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.url);
      }
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${how}) before it was ready`));
    });
  });
  ready.catch(() => undefined);
  return { name, process: child, ready, exited };
}
