// B4's report: Herald's PostgreSQL outbox against a bare SKIP LOCKED loop and graphile-worker (see b4/).
import type { B4TrialResult } from './b4/trial.ts';
import type { PostgresInfo } from './b4/database.ts';
import { B4_SHARED_NOTES, type B4System } from './b4/systems.ts';
import type { Machine } from './environment.ts';
import { count, decimal, millis, ratio, withRange } from './format.ts';
import { machineTable } from './report-broker.ts';
import { spread, type Spread } from './stats.ts';
import { renderMarkdown, renderText, type Table } from './table.ts';

/** B4's goals (shared/benchmarks.md). */
export const B4_GOALS = { bestPeerRatio: 1.0, p50Ms: 5, p99Ms: 20 } as const;

/** One system over the measured repetitions. */
export interface B4Summary {
  readonly system: string;
  readonly label: string;
  readonly ok: number;
  readonly runs: number;
  readonly throughput: Spread;
  readonly p50: Spread;
  readonly p99: Spread;
  readonly p999: Spread;
  readonly offeredRate: Spread;
  readonly clientCpuUs: Spread;
  readonly peakRssMb: Spread;
  readonly otherCores: Spread;
  readonly duplicates: number;
  readonly lost: number;
  readonly table: TableGrowth | undefined;
  readonly errors: readonly string[];
}

/** The queue table over the measured trials of one system. */
export interface TableGrowth {
  readonly name: string;
  /** Rows before the first measured trial and after the last. */
  readonly rowsStart: number;
  readonly rowsEnd: number;
  /** The largest rows(end) − rows(start) of one trial: 0 when every trial left the table as it found it. */
  readonly maxTrialRowGrowth: number;
  /** `pg_total_relation_size` before the first measured trial and after the last, bytes. */
  readonly bytesStart: number;
  readonly bytesEnd: number;
}

/** A goal of B4 (or a figure reported beside them), with whether the median meets it. */
export interface B4Goal {
  readonly title: string;
  readonly kind: 'ratio' | 'ms' | 'rows';
  readonly value: Spread;
  readonly goal?: { readonly op: '≥' | '≤'; readonly value: number };
  readonly met?: boolean;
}

/** What the B4 results JSON holds. */
export interface B4Report {
  readonly benchmark: 'B4';
  readonly env: Machine;
  readonly postgres: PostgresInfo;
  readonly options: {
    readonly count: number;
    readonly rate: number;
    readonly seconds: number;
    readonly reps: number;
    readonly warmup: boolean;
  };
  readonly systems: readonly B4System[];
  readonly summaries: readonly B4Summary[];
  readonly goals: readonly B4Goal[];
  readonly trials: readonly B4TrialResult[];
  readonly skipped: readonly string[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

/** Reads a B4 results JSON back. */
export function b4ReportFromJson(json: Record<string, unknown>): B4Report {
  return json as unknown as B4Report;
}

const of = (trials: readonly B4TrialResult[], pick: (t: B4TrialResult) => number | undefined): Spread =>
  spread(trials.filter((t) => t.ok).map((t) => pick(t) ?? Number.NaN));

function tableGrowth(trials: readonly B4TrialResult[]): TableGrowth | undefined {
  const measured = trials.filter((t) => t.table !== undefined).sort((a, b) => a.rep - b.rep);
  const first = measured[0]?.table;
  const last = measured.at(-1)?.table;
  if (first === undefined || last === undefined) return undefined;
  return {
    name: first.name,
    rowsStart: first.start.rows,
    rowsEnd: last.end.rows,
    maxTrialRowGrowth: Math.max(...measured.map((t) => t.table!.end.rows - t.table!.start.rows)),
    bytesStart: first.start.bytes,
    bytesEnd: last.end.bytes,
  };
}

/** Each system's figures over its measured trials. */
export function summarizeB4(systems: readonly B4System[], trials: readonly B4TrialResult[]): B4Summary[] {
  return systems.flatMap((system) => {
    const mine = trials.filter((t) => t.system === system.id);
    if (mine.length === 0) return [];
    const peak = (t: B4TrialResult): number | undefined =>
      t.peakRssMb === undefined ? undefined : t.peakRssMb.producer + t.peakRssMb.relay + t.peakRssMb.consumer;
    return [
      {
        system: system.id,
        label: system.label,
        ok: mine.filter((t) => t.ok).length,
        runs: mine.length,
        throughput: of(mine, (t) => t.throughput),
        p50: of(mine, (t) => t.latency?.p50),
        p99: of(mine, (t) => t.latency?.p99),
        p999: of(mine, (t) => t.latency?.p999),
        offeredRate: of(mine, (t) => t.offeredRate),
        clientCpuUs: of(mine, (t) => t.clientCpuUs),
        peakRssMb: of(mine, peak),
        otherCores: of(mine, (t) => t.otherCores),
        duplicates: mine.reduce((sum, t) => sum + (t.duplicates ?? 0), 0),
        lost: mine.reduce((sum, t) => sum + (t.lost ?? 0), 0),
        table: tableGrowth(mine),
        errors: mine.filter((t) => !t.ok).map((t) => `${t.system} rep ${t.rep}: ${t.error ?? 'failed'}`),
      },
    ];
  });
}

function goal(title: string, kind: B4Goal['kind'], value: Spread, target?: B4Goal['goal']): B4Goal {
  if (target === undefined || value.n === 0)
    return { title, kind, value, ...(target ? { goal: target } : {}) };
  const met = target.op === '≥' ? value.median >= target.value : value.median <= target.value;
  return { title, kind, value, goal: target, met };
}

/**
 * B4's goals for `herald` against `peers`: throughput ÷ the best peer's of the same repetition (≥ 1.0×), and ÷
 * each peer's (no goal); commit→handler p50 ≤ 5 ms and p99 ≤ 20 ms (medians over repetitions); no growth of the
 * queue table: in every trial the rows it ended with are the rows it started with.
 */
export function b4Goals(
  herald: string,
  peers: readonly string[],
  trials: readonly B4TrialResult[],
): B4Goal[] {
  const ok = trials.filter((t) => t.ok && Number.isFinite(t.throughput));
  const reps = [...new Set(ok.map((t) => t.rep))].sort((a, b) => a - b);
  const at = (system: string, rep: number) => ok.find((t) => t.system === system && t.rep === rep);
  const ratioTo = (denominator: (rep: number) => number | undefined): Spread =>
    spread(
      reps.map((rep) => {
        const top = at(herald, rep)?.throughput;
        const bottom = denominator(rep);
        return top === undefined || bottom === undefined ? Number.NaN : top / bottom;
      }),
    );
  const best = (rep: number): number | undefined => {
    const values = peers.map((p) => at(p, rep)?.throughput).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : Math.max(...values);
  };
  const mine = trials.filter((t) => t.system === herald);
  const growth = mine.map((t) =>
    t.table === undefined ? Number.NaN : t.table.end.rows - t.table.start.rows,
  );
  const allMeasured = mine.length > 0 && growth.every((g) => Number.isFinite(g));
  const maxGrowth: Spread = allMeasured
    ? { ...spread(growth), median: Math.max(...growth) }
    : { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return [
    goal('throughput, Herald / the best peer of the repetition', 'ratio', ratioTo(best), {
      op: '≥',
      value: B4_GOALS.bestPeerRatio,
    }),
    ...peers.map((peer) =>
      goal(
        `throughput, Herald / ${peer}`,
        'ratio',
        ratioTo((rep) => at(peer, rep)?.throughput),
      ),
    ),
    goal(
      'commit→handler p50, Herald',
      'ms',
      of(mine, (t) => t.latency?.p50),
      { op: '≤', value: B4_GOALS.p50Ms },
    ),
    goal(
      'commit→handler p99, Herald',
      'ms',
      of(mine, (t) => t.latency?.p99),
      { op: '≤', value: B4_GOALS.p99Ms },
    ),
    // The largest growth of any trial, not a median: one trial leaving rows behind fails the goal.
    goal('outbox rows left by a trial (largest over the trials), Herald', 'rows', maxGrowth, {
      op: '≤',
      value: 0,
    }),
  ];
}

function formatGoalValue(kind: B4Goal['kind'], n: number): string {
  if (kind === 'ratio') return ratio(n);
  if (kind === 'ms') return `${millis(n)} ms`;
  return count(n);
}

function goalsTable(goals: readonly B4Goal[]): Table {
  return {
    head: ['goal (per repetition, then median over repetitions)', 'value median (min–max)', 'goal', 'met'],
    right: new Set([1, 2]),
    rows: goals.map((g) => [
      g.title,
      g.kind === 'rows'
        ? formatGoalValue(g.kind, g.value.median)
        : withRange(g.value, (n) => formatGoalValue(g.kind, n)),
      g.goal === undefined ? '–' : `${g.goal.op} ${formatGoalValue(g.kind, g.goal.value)}`,
      g.met === undefined ? '–' : g.met ? 'met' : 'not met',
    ]),
  };
}

const runs = (s: B4Summary): string => (s.ok === s.runs ? String(s.ok) : `${s.ok}/${s.runs}`);

function figuresTable(r: B4Report): Table {
  const head = [
    'system',
    'tx/s fully handled',
    `commit→handler p50 ms at ${count(r.options.rate)}/s`,
    'p99 ms',
    'p99.9 ms',
    'client CPU µs/tx',
    'peak RSS MB',
    'other load',
    'runs',
  ];
  return {
    head,
    right: new Set(head.map((_, i) => i).filter((i) => i >= 1)),
    rows: r.summaries.map((s) => [
      s.label,
      withRange(s.throughput, count),
      withRange(s.p50, millis),
      withRange(s.p99, millis),
      withRange(s.p999, millis),
      withRange(s.clientCpuUs, (n) => decimal(n, 0)),
      withRange(s.peakRssMb, count),
      decimal(s.otherCores.median, 2),
      runs(s),
    ]),
  };
}

const kib = (bytes: number): string => `${count(bytes / 1024)} KiB`;

function tablesTable(r: B4Report): Table {
  return {
    head: [
      'system',
      'queue table',
      'rows: first start → last end',
      'most rows left by a trial',
      'size: first start → last end',
    ],
    right: new Set([2, 3, 4]),
    rows: r.summaries.map((s) =>
      s.table === undefined
        ? [s.label, '–', '–', '–', '–']
        : [
            s.label,
            `\`${s.table.name.replace(/^"[^"]+"\./, '')}\``,
            `${count(s.table.rowsStart)} → ${count(s.table.rowsEnd)}`,
            count(s.table.maxTrialRowGrowth),
            `${kib(s.table.bytesStart)} → ${kib(s.table.bytesEnd)}`,
          ],
    ),
  };
}

function parameters(r: B4Report): string {
  const o = r.options;
  return (
    `${count(o.count)} business transactions as fast as they commit, then ${count(o.rate)} transactions/s for ` +
    `${o.seconds} s, per trial; ${o.reps} measured repetition(s)${o.warmup ? ' after a warm-up pass' : ''}, ` +
    'systems interleaved within each repetition'
  );
}

function durability(p: PostgresInfo): string {
  const pgD2 = p.synchronousCommit === 'on' && p.fsync === 'on';
  return (
    `Every row: D1 end to end. PostgreSQL commits (the business transaction with its outbox row, the relay's ` +
    `delete, the consumer's inbox transaction) are ${pgD2 ? 'D2' : 'not fsynced'} (synchronous_commit=` +
    `${p.synchronousCommit}, fsync=${p.fsync}); the broker between relay and consumer is Herald's sqlite ` +
    'transport at D1 (WAL, synchronous=NORMAL), the weakest link.'
  );
}

/** The B4 section of docs/benchmarks.md. */
export function markdownB4(r: B4Report): string {
  const out = [
    '## B4: the outbox on PostgreSQL',
    '',
    `Run on ${r.env.date} (\`npm run bench -- --suite b4\`); raw results: \`${r.resultsPath}\`. ${parameters(r)}. ` +
      'Each trial starts a producer, a relay and a consumer process on a fresh sqlite transport file; each ' +
      "system's tables live in schemas of their own for the whole run (dropped at its end). The whole run " +
      `took ${Math.round(r.elapsedS)} s.`,
    '',
    '### Machine and versions',
    '',
    renderMarkdown(
      machineTable(r.env, [
        [
          'PostgreSQL',
          `${r.postgres.version} (synchronous_commit ${r.postgres.synchronousCommit}, fsync ${r.postgres.fsync}, ` +
            `autovacuum_naptime ${r.postgres.autovacuumNaptime})`,
        ],
      ]),
    ),
    '',
    '### Durability',
    '',
    durability(r.postgres),
    '',
    `### Goals (shared/benchmarks.md: ≥ 1.0× the best peer; commit→handler p50 ≤ ${B4_GOALS.p50Ms} ms, p99 ≤ ` +
      `${B4_GOALS.p99Ms} ms; no table growth)`,
    '',
    renderMarkdown(goalsTable(r.goals)),
    '',
    '### Throughput and latency',
    '',
    renderMarkdown(figuresTable(r)),
    '',
    '### The queue table over the run',
    '',
    renderMarkdown(tablesTable(r)),
    '',
    '### How each system is driven',
    '',
    ...r.systems.map((s) => `- **${s.label}** (\`${s.id}\`): ${s.notes}`),
    '',
    '### How it is measured',
    '',
    `- ${B4_SHARED_NOTES}`,
    "- Throughput: the throughput phase's transactions ÷ (the last inbox commit of its events − the first " +
      "BEGIN), on the machine's monotonic clock shared by all processes.",
    "- Commit→handler: handler entry in the consumer − the moment the producer's COMMIT resolved, matched by " +
      'sequence number, per event of the fixed-rate phase (open loop: transactions start on schedule whatever ' +
      'the commits do); percentiles over a trial, then median (min–max) over repetitions.',
    "- The queue table (Herald's `outbox`, the bare loop's `bare_outbox`, graphile-worker's `_private_jobs`): " +
      'rows (`count(*)`) and `pg_total_relation_size` before and after each trial, after the relay stopped. ' +
      'Rows are the goal: each trial must leave the table with the rows it found. The size is reported: rows ' +
      'deleted leave dead tuples until (auto)vacuum reclaims them (autovacuum_naptime ' +
      `${r.postgres.autovacuumNaptime} here), so a short run shows the size the churn reached, not a leak.`,
    '- Client CPU: user + system time of the producer, relay and consumer processes from the first phase to the ' +
      'end, per business transaction. PostgreSQL\'s own CPU is in "other load" (every other process of the ' +
      'machine, in cores), which also holds whatever else ran on the machine.',
    '',
    '### Known gaps',
    '',
    "- One relay process per system; Herald's relay can run several side by side (partition locks), not measured.",
    "- pg-boss was not needed as a fallback peer: graphile-worker installs and runs here (0.17.3; 0.18.0's " +
      '`engines` asks for Node 22).',
    ...[...r.skipped, ...r.summaries.flatMap((s) => s.errors)].map((note) => `- ${note}`),
  ];
  return out.join('\n');
}

/** The B4 report for the terminal. */
export function textB4(r: B4Report): string {
  return [
    `B4: the outbox on PostgreSQL. ${parameters(r)}.`,
    '',
    renderText(goalsTable(r.goals)),
    '',
    renderText(figuresTable(r)),
    '',
    renderText(tablesTable(r)),
    ...[...r.skipped, ...r.summaries.flatMap((s) => s.errors)].map((note) => `  ${note}`),
  ].join('\n');
}
