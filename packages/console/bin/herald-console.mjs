#!/usr/bin/env node
// The `herald-console` command. Installed from npm, the package holds the built JavaScript (dist/) and no
// sources: the bin imports dist/main.js under plain node. In this repository's checkout (src/ present) it runs the
// TypeScript sources through tsx with the "@herald/source" export condition, starting itself again with it when
// it was started without (as `npx herald-console` does). See docs/packaging.md.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CONDITION = '--conditions=@herald/source';
const started = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const fromSources = existsSync(fileURLToPath(new URL('../src/main.ts', import.meta.url)));
if (fromSources && !started.includes(CONDITION)) {
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
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
} else {
  await import('../dist/main.js');
}
