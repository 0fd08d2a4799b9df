#!/usr/bin/env node
// Runs the console's TypeScript sources through tsx (the console is not built to JavaScript yet, like the CLI it
// reuses). The workspace packages resolve to their sources under the "@herald/source" export condition, so the
// bin runs itself again with it when it was started without (as `npx herald-console` does).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`herald-console: the Herald web console (see docs/console.md)

Configured from the environment:
  HERALD_BROKER            the broker URL, as the services have it (default: sqlite:<HERALD_DATA_DIR>/herald.db)
  HERALD_TOPIC_PREFIX      the services' topic prefix
  HERALD_CONSOLE_CONTRACTS a module exporting the event definitions (topics to watch, schemas for edits)
  HERALD_CONSOLE_TOPICS    more topics to watch, comma-separated
  HERALD_CONSOLE_SERVICES  name=http://host:port pairs: health, metrics, fault toggles
  HERALD_CONSOLE_HOST      default 127.0.0.1; any other host needs HERALD_CONSOLE_TOKEN
  HERALD_CONSOLE_PORT      default 3100
  HERALD_CONSOLE_TOKEN     required by admin actions (replay, edit, discard, toggles) when set
  HERALD_CONSOLE_TRACES    the local trace store (default <HERALD_DATA_DIR>/traces.db)
  HERALD_CONSOLE_TRACE_URL a link to a trace in your tracing UI, with {traceId}`);
  process.exit(0);
}
const { register } = await import('tsx/esm/api');
register();
await import('../src/main.ts');
