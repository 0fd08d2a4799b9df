import type { Comparison } from './comparison.ts';
import type { Machine, NatsInfo } from './environment.ts';
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
import { B3_PAYLOAD_BYTES, B3_SCENARIOS } from './systems-b3.ts';
import { renderMarkdown, renderText } from './table.ts';

/** Everything the B3 report is made of (the results JSON holds it, plus every trial). */
export interface B3Report {
  readonly benchmark: 'B3';
  readonly options: RunOptions;
  readonly env: Machine & { readonly rabbitmq: string | undefined; readonly nats: NatsInfo | undefined };
  readonly systems: readonly SystemInfo[];
  readonly summaries: readonly Summary[];
  readonly comparisons: readonly Comparison[];
  readonly skipped: readonly string[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

export function b3ReportFromJson(json: Record<string, unknown>): B3Report {
  return { ...(json as unknown as B3Report), systems: systemsFromJson(json.systems) };
}

function parameters(r: B3Report): string {
  const o = r.options;
  return (
    `${count(o.count)} events per throughput trial (\`--count\`), latency at ${count(o.rate)} events/s for ` +
    `${o.seconds} s (${count(o.rate * o.seconds)} events per trial), ${B3_PAYLOAD_BYTES} B bodies, ${o.reps} ` +
    'measured repetition(s) after a warm-up pass, systems interleaved within each repetition'
  );
}

/** The B3 section of docs/benchmarks.md. */
export function markdownB3(r: B3Report): string {
  const e = r.env;
  const out: string[] = [
    '## B3: the RabbitMQ and NATS JetStream transports against their raw clients',
    '',
    `Run on ${e.date} (\`npm run bench -- --suite b3\`); raw results: \`${r.resultsPath}\`. ${parameters(r)}. ` +
      'Every trial starts fresh child processes (1 producer, 1 consumer) on fresh resources (a new exchange ' +
      'and queues, or streams, under a name of its own, deleted after the trial). The whole run took ' +
      `${Math.round(r.elapsedS)} s.`,
    '',
    '### Machine and versions',
    '',
    renderMarkdown(
      machineTable(e, [
        ['RabbitMQ', e.rabbitmq ?? 'not reachable'],
        [
          'nats-server',
          e.nats ? `${e.nats.version} (JetStream ${e.nats.jetstream ? 'on' : 'off'})` : 'not reachable',
        ],
      ]),
    ),
    '',
    '### Durability of each row',
    '',
    ...durabilityLines(r.systems),
  ];
  for (const scenario of B3_SCENARIOS) {
    const table = brokerScenarioTable(scenario, r.summaries);
    if (table) out.push('', `### ${scenario.title}`, '', renderMarkdown(table));
  }
  if (r.comparisons.length > 0) {
    out.push(
      '',
      '### Herald against the raw clients',
      '',
      'Each comparison is taken within a repetition (the systems ran interleaved), then summarised over ' +
        "repetitions. Goals (shared/benchmarks.md, B3): ≥ 0.9× the raw client's throughput, e2e p99 ≤ 1.1× " +
        "the raw client's at the same offered rate.",
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
    `- Message: a CloudEvent in binary mode: the binding's headers (\`cloudEvents_*\` with content type, ` +
      `message id, type and timestamp on AMQP; \`ce-*\` on NATS), the key, and a ${B3_PAYLOAD_BYTES} B JSON ` +
      'body carrying the sequence number and send time. The raw peers send the same headers and body; their ' +
      'consumers do not decode the headers, Herald does.',
    '- Throughput: published events ÷ (last delivery to the consumer − first publish call), both read from ' +
      "the machine's monotonic clock (`process.hrtime`, shared by all processes). A publish call resolves on " +
      "the broker's acknowledgement of every event in it (publisher confirms; JetStream acks); a delivery is " +
      'counted when the handler receives it, then acknowledged manually.',
    '- End-to-end latency: handler receipt − publish call, per event, at a fixed offered rate (open loop: ' +
      'events are sent on schedule whatever the acknowledgements do); percentiles over all events of a trial, ' +
      `then the median (min–max) over repetitions. p99.9 rests on about ` +
      `${Math.max(1, Math.round(r.options.rate * r.options.seconds * 0.001))} events per trial.`,
    '- Publish-call latency: the time a single-event publish takes to resolve with its acknowledgement, in the ' +
      'fixed-rate trials.',
    ...MEASUREMENT_NOTES,
    '',
    '### Known gaps',
    '',
    '- Herald runs its own topology (RabbitMQ: 8 partition queues per group with single active consumer and ' +
      'lock queues; NATS: 8 partition subjects and consumers, membership and claims). The goal ratios are ' +
      'taken against the raw client on the same partitioned topology (`amqplib-8q`, `nats-raw-8p`: the same ' +
      'queues or subjects and consumers, without the membership, claims and lock queues); the rows against ' +
      'the raw client on one queue or subject show what partitioning itself costs on this broker.',
    "- Herald's NATS publisher sets `Nats-Msg-Id` (server-side deduplication, its default); the raw nats.js " +
      'publisher does not.',
    `- nats-server ${e.nats?.version ?? ''} rejects \`sync_interval: always\`, so the JetStream rows are D1; the ` +
      'RabbitMQ rows are D2 (quorum queues fsync before confirming).',
    '- The brokers and the clients share 2 cores; the brokers are shared services (anything else using them ' +
      'during the run counts in their CPU).',
    '- Herald is driven through the raw `Transport` API; `createPublisher`/`createRouter` add their own cost.',
  );
  out.push(...loadNote(r.summaries));
  for (const note of [...r.skipped, ...errorsOf(r.summaries)]) out.push(`- ${note}`);
  return out.join('\n');
}

/** The B3 report for the terminal. */
export function textB3(r: B3Report): string {
  const out: string[] = [
    `B3: the RabbitMQ and NATS transports vs raw clients. ${parameters(r)}.`,
    `${r.env.date}, Node ${r.env.node}, RabbitMQ ${r.env.rabbitmq ?? 'n/a'}, nats-server ` +
      `${r.env.nats?.version ?? 'n/a'}; took ${Math.round(r.elapsedS)} s.`,
  ];
  for (const scenario of B3_SCENARIOS) {
    const table = brokerScenarioTable(scenario, r.summaries);
    if (table) out.push('', scenario.title, renderText(table));
  }
  if (r.comparisons.length > 0) out.push('', 'Herald vs raw', renderText(comparisonTable(r.comparisons)));
  const notes = [...r.skipped, ...errorsOf(r.summaries)];
  if (notes.length > 0) out.push('', 'Notes', ...notes.map((n) => `  ${n}`));
  return out.join('\n');
}
