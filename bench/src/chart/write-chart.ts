import type { SuiteId } from '../options.ts';
import { headlineBars, runDates } from './headline.ts';
import { ratioChartSvg } from './svg.ts';

/** The headline chart of a set of results (see {@link headlineBars}), as an SVG document. */
export function benchmarkChart(results: ReadonlyMap<SuiteId, Record<string, unknown>>): string {
  const dates = runDates(results);
  const subtitle =
    'Median of per-repetition ratios, whiskers min–max; runs of ' +
    (dates.length > 0 ? dates.join(', ') : '–');
  return ratioChartSvg(headlineBars(results), subtitle);
}
