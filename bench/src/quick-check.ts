import type { B4TrialResult } from './b4/trial.ts';
import type { LanesTrialResult } from './lanes/trial.ts';
import type { B6Engine } from './report-b6.ts';
import type { MicroTrial } from './micro/measure.ts';
import type { SuiteId } from './options.ts';
import type { TrialResult } from './trial.ts';

// The smoke run's verdict on one suite's results (`npm run bench -- --quick`): every trial ran, every event was
// acknowledged and counted once per consumer group, and nothing failed. Figures are not judged: they are tiny runs.

/** Deliveries a trial must count: none for a producer alone, every event once per consumer group otherwise. */
export function expectedDeliveries(trial: Pick<TrialResult, 'mode' | 'variant' | 'count'>): number {
  if (trial.mode === 'publish-one' || trial.mode === 'publish-batch') return 0;
  return trial.count * (trial.variant === 'groups' ? 2 : 1);
}

/** What is wrong with one broker-suite trial, or undefined when it is sane. */
export function trialProblem(t: TrialResult): string | undefined {
  const what = `${t.system} ${t.variant} ${t.mode} rep ${t.rep}`;
  if (!t.ok) return `${what}: failed: ${t.error?.split('\n', 1)[0] ?? 'no reason given'}`;
  const problems: string[] = [];
  if (t.mode !== 'consume' && t.published !== t.count)
    problems.push(`published ${t.published ?? 'an unknown number'} of ${t.count}`);
  const expected = expectedDeliveries(t);
  const distinct = t.delivered - t.duplicates;
  if (distinct !== expected) problems.push(`counted ${distinct} distinct deliveries, expected ${expected}`);
  if (!(t.throughput > 0) || !Number.isFinite(t.throughput)) problems.push(`throughput ${t.throughput}`);
  return problems.length === 0 ? undefined : `${what}: ${problems.join('; ')}`;
}

function microProblem(t: MicroTrial): string | undefined {
  if (!t.ok) return `${t.path} rep ${t.rep}: ${t.error ?? 'failed'}`;
  if (!(t.wallNs > 0)) return `${t.path} rep ${t.rep}: wall time ${t.wallNs} ns`;
  return undefined;
}

/**
 * Every problem found in a suite's results JSON (its `trials`); empty when the suite is sane. A suite that ran no
 * trial at all is a problem too.
 */
export function quickProblems(id: SuiteId, json: Record<string, unknown>): string[] {
  if (id === 'b6') return b6Problems((json.engines ?? []) as B6Engine[]);
  const trials = Array.isArray(json.trials) ? (json.trials as unknown[]) : [];
  if (trials.length === 0) return [`${id}: no trial ran`];
  if (id === 'b4') return (trials as B4TrialResult[]).flatMap(b4Problems).map((p) => `b4: ${p}`);
  if (id === 'lanes') return (trials as LanesTrialResult[]).flatMap(lanesProblems).map((p) => `lanes: ${p}`);
  const problems =
    id === 'micro' ? (trials as MicroTrial[]).map(microProblem) : (trials as TrialResult[]).map(trialProblem);
  return problems.filter((p): p is string => p !== undefined).map((p) => `${id}: ${p}`);
}

/** B6: every order accepted over HTTP settled, and confirmed (every basket is in stock and under the limit). */
export function b6Problems(engines: readonly B6Engine[]): string[] {
  const ran = engines.filter((e) => e.skipped === undefined);
  if (ran.length === 0) return ['b6: no engine ran'];
  return ran.flatMap((e) =>
    e.trials.flatMap((t, i) => {
      const what = `b6: ${e.engine} rep ${i + 1}`;
      const out: string[] = [];
      if (t.throughput.accepted === 0) out.push(`${what}: no order accepted`);
      if (t.throughput.unsettled > 0) out.push(`${what}: ${t.throughput.unsettled} orders never settled`);
      if (t.throughput.confirmed !== t.throughput.accepted)
        out.push(`${what}: ${t.throughput.confirmed} of ${t.throughput.accepted} orders confirmed`);
      if (t.latency.settled !== t.latency.offered)
        out.push(`${what}: ${t.latency.settled} of ${t.latency.offered} timed orders settled`);
      return out;
    }),
  );
}

const finitePositive = (n: number | undefined): boolean => n !== undefined && Number.isFinite(n) && n > 0;

/**
 * B4: the trial ran; every business transaction committed and its event was handled once through the inbox; the
 * relay reported no failure; the queue table ended with the rows it started with (no growth).
 */
export function b4Problems(t: B4TrialResult): string[] {
  const what = `${t.system} rep ${t.rep}`;
  if (!t.ok) return [`${what}: failed: ${t.error?.split('\n', 1)[0] ?? 'no reason given'}`];
  const out: string[] = [];
  const expected = t.count + t.latencyCount;
  if (t.committed !== expected)
    out.push(`${what}: committed ${t.committed ?? 'an unknown number'} of ${expected}`);
  if ((t.lost ?? 0) > 0) out.push(`${what}: ${t.lost} committed transaction(s) never handled (lost events)`);
  if (!finitePositive(t.throughput)) out.push(`${what}: throughput ${t.throughput}`);
  if ((t.latency?.n ?? 0) === 0) out.push(`${what}: no commit→handler latency measured`);
  if ((t.relay?.errors ?? 0) > 0) out.push(`${what}: the relay reported ${t.relay!.errors} failure(s)`);
  if (t.table === undefined) out.push(`${what}: the queue table was not measured`);
  else if (t.table.end.rows > t.table.start.rows)
    out.push(
      `${what}: table growth: ${t.table.name} went from ${t.table.start.rows} to ${t.table.end.rows} rows`,
    );
  return out;
}

/** Lanes: the trial ran, every event was handled, and no keyed trial handled a key out of order. */
export function lanesProblems(t: LanesTrialResult): string[] {
  const what = `${t.system} rep ${t.rep}`;
  if (!t.ok) return [`${what}: failed: ${t.error?.split('\n', 1)[0] ?? 'no reason given'}`];
  const out: string[] = [];
  if ((t.lost ?? 0) !== 0) out.push(`${what}: handled ${t.distinct} of ${t.count} events (lost events)`);
  if (t.keys > 0 && (t.violations ?? 0) > 0) out.push(`${what}: ${t.violations} order violation(s)`);
  if (!finitePositive(t.throughput)) out.push(`${what}: throughput ${t.throughput}`);
  return out;
}
