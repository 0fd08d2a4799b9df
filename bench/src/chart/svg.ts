import type { HeadlineBar } from './headline.ts';

// The headline chart as a standalone SVG, written from the data (no browser, no library): one row per bar,
// a log2 axis centred on 1×, the bar drawn from 1× to the median, a whisker from min to max, the goal as a tick.

const WIDTH = 880;
const LABEL_W = 380;
const VALUE_W = 150;
const ROW_H = 26;
const TOP = 64;
const BOTTOM = 44;
const PLOT_X = LABEL_W;
const PLOT_W = WIDTH - LABEL_W - VALUE_W - 16;
const MET = '#2e7d32';
const MISSED = '#c62828';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Two decimals, trailing zeros kept: `0.88×`. */
function times(n: number): string {
  return `${n.toFixed(2)}×`;
}

/** The axis range, powers of 2 around every value and goal, at least 0.25×–4×. */
export function axisRange(bars: readonly HeadlineBar[]): { readonly lo: number; readonly hi: number } {
  const values = bars.flatMap((b) => [b.value.min, b.value.max, b.value.median, b.goal]).filter((v) => v > 0);
  const lo = Math.min(-2, Math.floor(Math.log2(Math.min(...values, 1))));
  const hi = Math.max(2, Math.ceil(Math.log2(Math.max(...values, 1))));
  return { lo: 2 ** lo, hi: 2 ** hi };
}

const n = (v: number): string => String(Math.round(v * 10) / 10);

/**
 * Renders the headline bars as an SVG document: title, subtitle (what the figures come from), one row per bar
 * with its label, bar, whisker, goal tick and `median (goal ≥ x)`, and a legend. Deterministic for given input.
 */
export function ratioChartSvg(bars: readonly HeadlineBar[], subtitle: string): string {
  const { lo, hi } = axisRange(bars);
  const x = (v: number): number =>
    PLOT_X + ((Math.log2(Math.min(hi, Math.max(lo, v))) - Math.log2(lo)) / Math.log2(hi / lo)) * PLOT_W;
  const height = TOP + Math.max(1, bars.length) * ROW_H + BOTTOM;
  const plotBottom = TOP + bars.length * ROW_H;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      'font-family="Helvetica, Arial, sans-serif" font-size="12">',
    '<title>Herald against the best peer of each benchmark</title>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    '<text x="16" y="24" font-size="16" font-weight="bold">Herald ÷ best peer, throughput (goal: black tick)</text>',
    `<text x="16" y="44" fill="#555555">${escapeXml(subtitle)}</text>`,
  ];
  // Grid and axis labels at every power of 2.
  for (let v = lo; v <= hi; v *= 2) {
    const gx = n(x(v));
    const one = v === 1;
    out.push(
      `<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${plotBottom}" stroke="${one ? '#777777' : '#dddddd'}"` +
        `${one ? ' stroke-width="1.5"' : ''}/>`,
      `<text x="${gx}" y="${plotBottom + 16}" text-anchor="middle" fill="#555555">${v}×</text>`,
    );
  }
  if (bars.length === 0) {
    out.push(`<text x="${PLOT_X}" y="${TOP + 16}">No results with a throughput goal yet.</text>`);
  }
  bars.forEach((b, i) => {
    const y = TOP + i * ROW_H;
    const mid = y + ROW_H / 2;
    const colour = b.met ? MET : MISSED;
    const [from, to] = [x(Math.min(1, b.value.median)), x(Math.max(1, b.value.median))];
    out.push(
      `<text x="${LABEL_W - 10}" y="${n(mid + 4)}" text-anchor="end">` +
        `<tspan font-weight="bold">${escapeXml(b.benchmark)}</tspan> ${escapeXml(b.label)}</text>`,
      `<rect x="${n(from)}" y="${n(y + 6)}" width="${n(Math.max(1, to - from))}" height="${ROW_H - 12}" ` +
        `fill="${colour}" fill-opacity="0.8"/>`,
    );
    if (b.value.n > 1) {
      out.push(
        `<line x1="${n(x(b.value.min))}" y1="${n(mid)}" x2="${n(x(b.value.max))}" y2="${n(mid)}" stroke="#333333"/>`,
      );
    }
    const gx = n(x(b.goal));
    out.push(
      `<line x1="${gx}" y1="${n(y + 2)}" x2="${gx}" y2="${n(y + ROW_H - 2)}" stroke="#000000" stroke-width="3"/>`,
      `<text x="${PLOT_X + PLOT_W + 10}" y="${n(mid + 4)}" fill="${colour}">` +
        `${times(b.value.median)} (goal ≥ ${times(b.goal)})</text>`,
    );
  });
  const ly = height - 14;
  out.push(
    `<rect x="16" y="${ly - 10}" width="12" height="12" fill="${MET}"/>`,
    `<text x="32" y="${ly}">goal met</text>`,
    `<rect x="100" y="${ly - 10}" width="12" height="12" fill="${MISSED}"/>`,
    `<text x="116" y="${ly}">goal missed</text>`,
    `<line x1="206" y1="${ly - 11}" x2="206" y2="${ly + 2}" stroke="#000000" stroke-width="3"/>`,
    `<text x="214" y="${ly}">goal</text>`,
    `<line x1="256" y1="${ly - 4}" x2="280" y2="${ly - 4}" stroke="#333333"/>`,
    `<text x="286" y="${ly}">min–max over repetitions; log scale, bars start at 1×</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
