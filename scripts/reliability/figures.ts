// The figures the system fault tests write to test-artifacts/reliability/ (one JSON file per test and engine,
// named `<kind>-<engine>.json`, written only once every invariant of that test held), read back for the page.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the system fault tests write their figures. */
export const FIGURES_DIR = fileURLToPath(new URL('../../test-artifacts/reliability/', import.meta.url));

/** One test's figures: its kind (the file name before the engine), its engine, and what it measured. */
export interface Figures {
  readonly kind: string;
  readonly engine: string;
  readonly values: Readonly<Record<string, unknown>>;
}

const ENGINES = ['sqlite', 'kafka', 'rabbitmq', 'nats', 'sqs', 'postgres'];

/** Splits `sigkill-storm-kafka.json` into its kind and engine; the engine is the last `-` part. */
export function parseFiguresName(file: string): { kind: string; engine: string } | undefined {
  const match = /^(.+)-([a-z0-9]+)\.json$/.exec(file);
  if (match === null) return undefined;
  const [, kind, engine] = match as unknown as [string, string, string];
  return ENGINES.includes(engine) ? { kind, engine } : undefined;
}

/** Every figures file in `dir`, sorted by kind then engine; an empty list when the folder does not exist. */
export function readFigures(dir: string = FIGURES_DIR): Figures[] {
  if (!existsSync(dir)) return [];
  const out: Figures[] = [];
  for (const file of readdirSync(dir).sort()) {
    const name = parseFiguresName(file);
    if (name === undefined) continue;
    const values = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    out.push({ ...name, values });
  }
  return out.sort(
    (a, b) => a.kind.localeCompare(b.kind) || ENGINES.indexOf(a.engine) - ENGINES.indexOf(b.engine),
  );
}
