/**
 * The console as a process (`herald-console`, and the child `npm start` supervises): configured from the
 * environment (`consoleConfigFromEnv`), it prints its URL, tells a parent process over IPC that it is ready (the
 * shop's supervisor waits for `{ type: 'ready', url }` as it does for the services), and stops gracefully on
 * SIGTERM, SIGINT, SIGHUP or its parent going away. A configuration error is one clear line and exit code 1.
 */
import { consoleConfigFromEnv } from './config.ts';
import { startConsole, type RunningConsole } from './console-server.ts';

const NAME = 'herald-console';
let running: RunningConsole | undefined;
let stopping = false;

async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    console.error(`${NAME}: shutdown took longer than 10 s; exiting`);
    process.exit(1);
  }, 10_000).unref();
  try {
    await running?.close();
    process.exit(0);
  } catch (error) {
    console.error(`${NAME}: shutdown failed (${why})`, error);
    process.exit(1);
  }
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
process.on('disconnect', () => void stop('parent gone'));

try {
  running = await startConsole(consoleConfigFromEnv(process.env));
  if (stopping) await running.close();
  else {
    if (process.send === undefined) console.log(`Herald console: ${running.url}`);
    process.send?.({ type: 'ready', service: NAME, url: running.url, pid: process.pid });
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  console.error(`${NAME}: cannot start: ${message}${typeof code === 'string' ? ` (${code})` : ''}`);
  process.exit(1);
}
