// B6's report: the whole shop per engine, against the goals of shared/benchmarks.md.
import type { Machine } from './environment.ts';
import { count, decimal, millis, withRange } from './format.ts';
import { machineTable } from './report-broker.ts';
import type { ShopTrialResult } from './b6/shop-trial.ts';
import { spread, type Spread } from './stats.ts';
import { renderMarkdown, renderText, type Table } from './table.ts';

/** B6's goals on this 2-core machine (shared/benchmarks.md). */
export const B6_GOALS = { embeddedConfirmedPerS: 2000, p99Ms: 50, rate: 200 } as const;

/** One engine's repetitions, or why it did not run. */
export interface B6Engine {
  readonly engine: string;
  readonly skipped?: string;
  readonly trials: readonly ShopTrialResult[];
}

/** What the B6 results JSON holds. */
export interface B6Report {
  readonly benchmark: 'B6';
  readonly env: Machine;
  readonly servers: readonly (readonly [string, string])[];
  readonly options: {
    readonly seconds: number;
    readonly connections: number;
    readonly rate: number;
    readonly reps: number;
  };
  readonly engines: readonly B6Engine[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

const over = (e: B6Engine, pick: (t: ShopTrialResult) => number): Spread => spread(e.trials.map(pick));
const peakOf = (t: ShopTrialResult) => Math.max(...Object.values(t.throughput.peakRssMiB));

function met(ok: boolean): string {
  return ok ? 'met' : 'not met';
}

/** The table of every engine's figures (median, min–max over the repetitions). */
export function b6Table(report: B6Report): Table {
  const rows = report.engines.map((e) => {
    if (e.skipped !== undefined) return [e.engine, `skipped: ${e.skipped}`, '', '', '', '', '', ''];
    const confirmed = over(e, (t) => t.throughput.confirmedPerS);
    const p99 = over(e, (t) => t.latency.p99Ms);
    return [
      e.engine,
      withRange(confirmed, count),
      withRange(
        over(e, (t) => t.throughput.acceptedPerS),
        count,
      ),
      withRange(
        over(e, (t) => t.throughput.peakBacklog),
        count,
      ),
      withRange(
        over(e, (t) => t.latency.p50Ms),
        millis,
      ),
      withRange(p99, millis),
      withRange(over(e, peakOf), (n) => decimal(n, 0)),
      [
        e.engine === 'sqlite' ? `${met(confirmed.median >= B6_GOALS.embeddedConfirmedPerS)} (≥ 2,000/s)` : '',
        `p99 ${met(p99.median <= B6_GOALS.p99Ms)} (≤ 50 ms)`,
      ]
        .filter(Boolean)
        .join('; '),
    ];
  });
  return {
    head: [
      'engine',
      'confirmed orders/s',
      'accepted orders/s (HTTP)',
      'peak backlog (orders)',
      `p50 order→outcome at ${report.options.rate}/s, ms`,
      `p99 order→outcome at ${report.options.rate}/s, ms`,
      'peak RSS of a service, MiB',
      'goals',
    ],
    rows,
    right: new Set([1, 2, 3, 4, 5, 6]),
  };
}

/** Peak RSS per service and engine (median over the repetitions), MiB: the memory under the overload. */
export function b6MemoryTable(report: B6Report): Table {
  const services = ['order-service', 'payment-service', 'inventory-service', 'notification-service'];
  return {
    head: ['engine', ...services.map((s) => `${s} peak / end`)],
    rows: report.engines
      .filter((e) => e.skipped === undefined)
      .map((e) => [
        e.engine,
        ...services.map(
          (s) =>
            `${decimal(over(e, (t) => t.throughput.peakRssMiB[s] ?? Number.NaN).median, 0)} / ` +
            decimal(over(e, (t) => t.throughput.endRssMiB[s] ?? Number.NaN).median, 0),
        ),
      ]),
    right: new Set([1, 2, 3, 4]),
  };
}

function method(report: B6Report): string {
  const o = report.options;
  return (
    `Each repetition starts the four services as separate processes on the engine (fresh data folder, topics ` +
    `and state; SQLite state; outbox, inbox, retries, dead-letter queues and the saga's compensation on; default ` +
    `log level), then: **throughput**: ${o.connections} HTTP clients place orders back to back for ${o.seconds} s ` +
    `(an overload wherever the saga settles slower than the order service accepts), then the backlog drains; ` +
    `confirmed orders/s is the confirmed count over the span from the first order to the last outcome; ` +
    `**latency**: orders offered at ${o.rate}/s for ${o.seconds} s (open loop), each timed from sending its POST ` +
    `to its outcome event (OrderConfirmed/OrderCancelled) reaching an observer group of the bench. ` +
    `${o.reps} repetition(s); median (min–max). Every basket is in stock and under the payment limit ` +
    `(\`INVENTORY_INITIAL_STOCK\`), so every order should confirm.`
  );
}

export function markdownB6(report: B6Report): string {
  return [
    '## B6: the whole shop',
    '',
    `Run on ${report.env.date} (\`npm run bench -- --suite b6\`); raw results: \`${report.resultsPath}\`. ` +
      `The whole run took ${Math.round(report.elapsedS)} s.`,
    '',
    method(report),
    '',
    renderMarkdown(b6Table(report)),
    '',
    '### Memory per service under the overload',
    '',
    renderMarkdown(b6MemoryTable(report)),
    '',
    '### Machine and versions',
    '',
    renderMarkdown(machineTable(report.env, report.servers)),
  ].join('\n');
}

export function textB6(report: B6Report): string {
  return ['B6: the whole shop', renderText(b6Table(report)), '', renderText(b6MemoryTable(report))].join(
    '\n',
  );
}
