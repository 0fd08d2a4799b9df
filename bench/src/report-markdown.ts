import { heraldFromLabel } from './environment.ts';
import { count } from './format.ts';
import { errorsOf, latencyGoalTable, parameters, ratioTable, scenarioTable, type Report } from './report.ts';
import { LATENCY_GOAL_MS, SCENARIOS } from './summary.ts';
import { renderMarkdown, type Table } from './table.ts';

/** The B1 section of docs/benchmarks.md, from a run's results. */
export function markdownReport(r: Report): string {
  const e = r.env;
  const environment: Table = {
    head: ['what', 'value'],
    rows: [
      ['date', e.date],
      ['machine', `${e.cpuModel}, ${e.cores} cores, ${e.memoryGiB} GiB, ${e.os}`],
      ['Node', e.node],
      ['Herald loaded from', heraldFromLabel(e.heraldFrom)],
      [
        'Redis',
        e.redis
          ? `${e.redis.version} (save "${e.redis.save}", appendonly ${e.redis.appendonly}, ` +
            `appendfsync ${e.redis.appendfsync})`
          : 'not reachable',
      ],
      [
        'nats-server',
        e.nats ? `${e.nats.version} (JetStream ${e.nats.jetstream ? 'on' : 'off'})` : 'not reachable',
      ],
      ...Object.entries(e.packages).map(([name, version]) => [name, version]),
    ],
  };
  const out: string[] = [
    '## B1: the embedded transport across processes',
    '',
    `Run on ${e.date} (\`npm run bench -- --suite b1\`); raw results: \`${r.resultsPath}\`. ` +
      `${parameters(r)}. Every trial starts fresh child processes (1 producer, 1 or 2 consumers) on fresh ` +
      `resources (a new SQLite file, queue or stream). The whole run took ${Math.round(r.elapsedS)} s.`,
    '',
    '### Machine and versions',
    '',
    renderMarkdown(environment),
    '',
    '### Durability of each row',
    '',
    'D0: nothing acknowledged by a broker; D1: survives a process crash (no fsync per ack); D2: fsync before the ack.',
    '',
    ...r.systems.map((s) => `- **${s.label}** (\`${s.id}\`): ${s.durabilityLabel}`),
  ];
  for (const scenario of SCENARIOS) {
    const table = scenarioTable(scenario, r.summaries);
    if (table) out.push('', `### ${scenario.title}`, '', renderMarkdown(table));
  }
  if (r.ratios.length > 0) {
    out.push(
      '',
      '### Ratios against the peers',
      '',
      'Each ratio is taken within a repetition (the systems ran interleaved), then summarised over repetitions.',
      '',
      renderMarkdown(ratioTable(r.ratios)),
    );
  }
  if (r.latencyGoals.length > 0) {
    out.push(
      '',
      `### Latency goals (Herald, e2e at ${count(r.options.rate)} events/s, medians over repetitions)`,
      '',
      `Goal: p50 ≤ ${LATENCY_GOAL_MS.p50} ms, p99 ≤ ${LATENCY_GOAL_MS.p99} ms.`,
      '',
      renderMarkdown(latencyGoalTable(r.latencyGoals)),
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
    '- Message: a CloudEvents 1.0 event of about 400 B (structured-mode JSON for the peers; binary mode for ' +
      'Herald: the same attributes as strings, the data as JSON bytes), 16 partition keys.',
    '- Throughput: published events ÷ (last delivery to a consumer − first publish call), both read from the ' +
      "machine's monotonic clock (`process.hrtime`, shared by all processes). In the 2-groups variant every " +
      'event is delivered twice and counts once. A delivery is counted when the handler receives it; it is ' +
      'then acknowledged the way the system requires.',
    '- End-to-end latency: handler receipt − publish call, per event, at a fixed offered rate (open loop: events ' +
      'are sent on schedule whatever the acknowledgements do); percentiles over all events of a trial, then ' +
      'the median (min–max) over repetitions. p99.9 rests on about ' +
      `${Math.max(1, Math.round(r.options.rate * r.options.seconds * 0.001))} events per trial.`,
    '- Publish-call latency: the time a single-event publish call takes to resolve with its acknowledgement, ' +
      'in the fixed-rate trials.',
    '- CPU: user + system time of the producer and consumer processes over the measured window ' +
      '(`process.cpuUsage`), plus the broker process (`/proc/<pid>/stat` of redis-server or nats-server, ' +
      '10 ms resolution) over the same window, divided by published events. In the latency trials this ' +
      'includes idle time spent waiting (polling, heartbeats).',
    "- Peak RSS: sum of each child process's peak (`resourceUsage().maxRSS`, includes the tsx loader) and the " +
      "broker's peak RSS sampled every 50 ms during the trial.",
    '',
    '### Known gaps',
    '',
    `- ${count(r.options.count)} events per trial rather than B1's 1M, to fit the run in minutes on 2 cores; ` +
      'rerun with `--count 1000000` for the full size.',
    "- Every process runs the harness's TypeScript through tsx; its loader adds memory to each RSS figure equally.",
  );
  const ran = (peer: string): boolean => r.systems.some((s) => s.peer === peer);
  if (ran('bullmq') || ran('jetstream')) {
    out.push(
      '- The brokers are shared services on this machine: anything else using Redis or NATS during the run ' +
        'counts in their CPU.',
    );
    if (!r.options.peerVariants) {
      out.push(
        '- BullMQ and JetStream ran the 1 → 1 scenarios only; `npm run bench -- --peer-variants` adds their ' +
          'competing-consumer and groups rows (BullMQ has no groups).',
      );
    }
  }
  if (ran('jetstream')) {
    out.push(
      `- nats-server ${e.nats?.version ?? ''} rejects \`sync_interval: always\` (an unknown field there), so no ` +
        'JetStream row is D2; the Herald D2 / JetStream ratio compares against a JetStream that does less ' +
        '(no fsync per ack).',
    );
  }
  if (ran('bullmq') && r.systems.some((s) => s.peer === 'bullmq' && s.durabilityLabel.startsWith('D0'))) {
    out.push('- Redis runs without persistence here, so BullMQ acknowledgements mean "in Redis memory".');
  }
  if (ran('herald')) {
    out.push(
      '- Herald is driven through the raw `Transport` API; `createPublisher`/`createRouter` (validation, ' +
        'decoding, middleware) add their own cost on top and are not measured here.',
    );
  }
  if (ran('herald') && ran('sqlite-raw')) {
    out.push(
      '- The raw ceiling keeps its read position in memory, while Herald commits group offsets (and ' +
        'heartbeats) to the same file: the ceiling does strictly less work, which is what a ceiling is for.',
    );
  }
  if (!r.heraldAvailable) {
    out.push('- `@herald/sqlite` did not export `sqlite()` when this ran: the table has only the peers.');
  }
  for (const note of [...r.skipped, ...errorsOf(r.summaries)]) out.push(`- ${note}`);
  return out.join('\n');
}
