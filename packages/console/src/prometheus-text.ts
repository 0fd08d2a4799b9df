/** One sample of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * Parses the samples of a Prometheus text exposition (version 0.0.4, what prom-client serves), keeping only the
 * metric names `wanted` selects. Comments, `# HELP`/`# TYPE` lines and lines it cannot read are skipped: the console
 * shows what it understood and never fails a page over one odd line.
 */
export function parsePrometheusText(text: string, wanted: (name: string) => boolean = () => true): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (match === null || !wanted(match[1]!)) continue;
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    LABEL.lastIndex = 0;
    let ok = true;
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body);
      if (label === null) {
        ok = false;
        break;
      }
      labels[label[1]!] = unescape(label[2]!);
    }
    const value = parseValue(match[3]!);
    if (ok && !Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}
