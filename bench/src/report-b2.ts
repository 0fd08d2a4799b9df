import type { Comparison } from './comparison.ts';
import type { Machine } from './environment.ts';
import { count } from './format.ts';
import {
  brokerScenarioTable,
  comparisonTable,
  durabilityLines,
  loadNote,
  machineTable,
  MEASUREMENT_NOTES,
} from './report-broker.ts';
import { errorsOf, type RunOptions, type SystemInfo } from './report.ts';
import { systemsFromJson } from './suite.ts';
import type { Summary } from './summary.ts';
import { B2_BATCH, B2_SCENARIOS } from './systems-b2.ts';
import { renderMarkdown, renderText } from './table.ts';

/** Everything the B2 report is made of (the results JSON holds it, plus every trial). */
export interface B2Report {
  readonly benchmark: 'B2';
  readonly options: RunOptions;
  readonly env: Machine & {
    readonly kafka: { readonly version: string; readonly brokers: readonly string[] };
  };
  /** Events per measured trial, by mode. */
  readonly counts: Readonly<Record<string, number>>;
  readonly systems: readonly SystemInfo[];
  readonly summaries: readonly Summary[];
  readonly comparisons: readonly Comparison[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

export function b2ReportFromJson(json: Record<string, unknown>): B2Report {
  return { ...(json as unknown as B2Report), systems: systemsFromJson(json.systems) };
}

function parameters(r: B2Report): string {
  const n = (mode: string): string => count(r.counts[mode] ?? Number.NaN);
  return (
    `${n('publish-one')} single awaited publishes, ${n('publish-batch')} events in batches of ${B2_BATCH}, and ` +
    `${n('consume')} stored events consumed per trial (\`--count\` sets the consume count, the others follow ` +
    `at 1/100 and 1/4), 1 KB values, ${r.options.reps} measured repetition(s) after a warm-up pass (a fifth of ` +
    'the counts), systems interleaved within each repetition'
  );
}

/** The B2 section of docs/benchmarks.md. */
export function markdownB2(r: B2Report): string {
  const e = r.env;
  const out: string[] = [
    "## B2: the Kafka transport against Kafka's raw clients",
    '',
    `Run on ${e.date} (\`npm run bench -- --suite b2\`); raw results: \`${r.resultsPath}\`. ${parameters(r)}. ` +
      'Every trial starts fresh child processes: the producer alone on a new topic of 3 partitions for the ' +
      'publish trials, the consumer alone for the consume trials, which read a topic filled once per ' +
      'repetition (same records for every system, each reading with a new consumer group). The whole run took ' +
      `${Math.round(r.elapsedS)} s.`,
    '',
    '### Machine and versions',
    '',
    renderMarkdown(
      machineTable(e, [
        ['Kafka broker', `${e.kafka.version} (KRaft, single node, ${e.kafka.brokers.join(', ')})`],
      ]),
    ),
    '',
    '### Durability of each row',
    '',
    ...durabilityLines(r.systems),
  ];
  for (const scenario of B2_SCENARIOS) {
    const table = brokerScenarioTable(scenario, r.summaries);
    if (table) out.push('', `### ${scenario.title}`, '', renderMarkdown(table));
  }
  if (r.comparisons.length > 0) {
    out.push(
      '',
      '### Herald against the raw clients',
      '',
      'Each comparison is taken within a repetition (the systems ran interleaved), then summarised over ' +
        "repetitions. Goals (shared/benchmarks.md, B2): ≥ 0.9× the raw client's throughput, ≥ 1.3× kafkajs, " +
        '≤ 2 µs client CPU added per event.',
      '',
      renderMarkdown(comparisonTable(r.comparisons)),
    );
  }
  out.push(
    '',
    '### How each system is driven',
    '',
    ...r.systems.map((s) => `- **${s.label}** (\`${s.id}\`): ${s.notes}`),
    '',
    '### How it is measured',
    '',
    '- Message: a CloudEvent in binary mode: the `ce_*` headers and `content-type` of the Kafka binding, the ' +
      'key (16 keys), and a 1,024 B JSON value carrying the sequence number and send time. The raw peers send ' +
      'the very same headers, key and value; their consumers do not decode the headers, Herald does.',
    '- Single awaited publish: each publish call of one event is awaited (acks=all) before the next; ' +
      'throughput = events ÷ (last acknowledgement − first call); publish p50/p99 are per call.',
    `- Batches: calls of ${B2_BATCH} events, one in flight; publish p50/p99 are per call of ${B2_BATCH}.`,
    '- Before the measurement every producer sends one event so that connecting, metadata and the producer id ' +
      'are not timed, then runs the whole trial once unmeasured (warming the process: its CPU per event is ' +
      "the publish path's steady cost, not the compilation of a process that has just started).",
    '- Consume: the consumer process joins a new group when the trial starts (its CPU counts from there); ' +
      'throughput = events ÷ (last delivery − first delivery), so the group join is not in it. Each system ' +
      'commits as it would in production (see above); the final commit on close is not timed.',
    ...MEASUREMENT_NOTES,
    '- In the single-publish trials the client CPU per event is mostly the cost of a round trip (socket, ' +
      'timers, promise turns), over a hundred µs, so differences of a few µs there are within the noise; the ' +
      '2 µs goal is best judged on the batch and consume trials.',
    '',
    '### Known gaps',
    '',
    '- The broker is a single node: acks=all means the one replica, and nothing is fsynced per ack (D1).',
    '- The broker and the clients share 2 cores; throughput here is bound by that as much as by the clients.',
    "- Every process runs the harness's TypeScript through tsx; its loader adds memory to each RSS figure equally.",
    '- Herald is driven through the raw `Transport` API; `createPublisher`/`createRouter` (validation, ' +
      'encoding, middleware) add their own cost on top and are not measured here.',
    '- The raw @platformatic/kafka producer keeps one `send` in flight: its idempotent producer loses records ' +
      'with several (platformatic/kafka#326), so no row shows concurrent sends.',
  );
  out.push(...loadNote(r.summaries));
  for (const note of errorsOf(r.summaries)) out.push(`- ${note}`);
  return out.join('\n');
}

/** The B2 report for the terminal. */
export function textB2(r: B2Report): string {
  const out: string[] = [
    `B2: the Kafka transport vs raw clients. ${parameters(r)}.`,
    `${r.env.date}, Node ${r.env.node}, Kafka ${r.env.kafka.version}; took ${Math.round(r.elapsedS)} s.`,
  ];
  for (const scenario of B2_SCENARIOS) {
    const table = brokerScenarioTable(scenario, r.summaries);
    if (table) out.push('', scenario.title, renderText(table));
  }
  if (r.comparisons.length > 0) out.push('', 'Herald vs raw', renderText(comparisonTable(r.comparisons)));
  const notes = errorsOf(r.summaries);
  if (notes.length > 0) out.push('', 'Notes', ...notes.map((n) => `  ${n}`));
  return out.join('\n');
}
