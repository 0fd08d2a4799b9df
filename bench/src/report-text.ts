import { renderText } from './table.ts';
import { SCENARIOS } from './summary.ts';
import { errorsOf, latencyGoalTable, parameters, ratioTable, scenarioTable, type Report } from './report.ts';

/** The report for the terminal. */
export function textReport(r: Report): string {
  const out: string[] = [
    `B1: the embedded transport across processes. ${parameters(r)}.`,
    `${r.env.date}, Node ${r.env.node}, ${r.env.cpuModel} × ${r.env.cores} cores, ${r.env.memoryGiB} GiB; ` +
      `Redis ${r.env.redis?.version ?? 'n/a'}, nats-server ${r.env.nats?.version ?? 'n/a'}; ` +
      `took ${Math.round(r.elapsedS)} s.`,
  ];
  for (const scenario of SCENARIOS) {
    const table = scenarioTable(scenario, r.summaries);
    if (table) out.push('', scenario.title, renderText(table));
  }
  if (r.ratios.length > 0) out.push('', 'Ratios', renderText(ratioTable(r.ratios)));
  if (r.latencyGoals.length > 0) out.push('', 'Latency goals', renderText(latencyGoalTable(r.latencyGoals)));
  out.push('', 'Durability', ...r.systems.map((s) => `  ${s.id}: ${s.durabilityLabel}`));
  const notes = [...r.skipped, ...errorsOf(r.summaries)];
  if (notes.length > 0) out.push('', 'Notes', ...notes.map((n) => `  ${n}`));
  return out.join('\n');
}
