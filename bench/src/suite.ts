import type { Options, SuiteId } from './options.ts';
import type { SystemInfo } from './report.ts';
import type { System } from './system.ts';

/** What every suite gets from `npm run bench`. */
export interface SuiteContext {
  readonly root: string;
  readonly options: Options;
  /** Unique per run: every queue, stream, topic and file of the run is named after it. */
  readonly runId: string;
  /** A directory for the run's files, removed at the end. */
  readonly dir: string;
  /** Ctrl-C: stop after cleaning up the current trial. */
  readonly signal: AbortSignal;
}

/** A suite's results: the JSON it writes to bench/results/<id>.json, and its report for the terminal. */
export interface SuiteOutcome {
  readonly id: SuiteId;
  readonly json: Record<string, unknown>;
  readonly text: string;
}

/** A suite that has nothing to run here (a server down, `--only` matching none of its systems). */
export class SuiteSkipped extends Error {}

/** The systems `--only` selects (ids or id prefixes); all when it is empty. */
export function selectSystems(all: readonly System[], only: readonly string[]): System[] {
  if (only.length === 0) return [...all];
  return all.filter((s) => only.some((o) => s.id === o || s.id.startsWith(o)));
}

/** How a system is described in the results JSON: everything but `setup`. */
export function systemJson(s: System): Record<string, unknown> {
  return {
    id: s.id,
    peer: s.peer,
    label: s.label,
    durability: s.durabilityLabel,
    broker: s.broker,
    variants: s.variants,
    batch: s.batch,
    window: s.window,
    payloadBytes: s.payloadBytes,
    notes: s.notes,
  };
}

/** Reads the systems back from a results JSON (`durability` holds the label). */
export function systemsFromJson(systems: unknown): SystemInfo[] {
  // Older B1 files do not name the peer: it is the id without the durability suffix.
  const peerOf = (id: string): string => id.replace(/-d[0-9]$/, '');
  return (systems as (Partial<SystemInfo> & { id: string; durability?: string })[]).map((s) => ({
    id: s.id,
    label: s.label ?? s.id,
    peer: (s.peer ?? peerOf(s.id)) as SystemInfo['peer'],
    durabilityLabel: s.durabilityLabel ?? s.durability ?? '',
    notes: s.notes ?? '',
  }));
}
