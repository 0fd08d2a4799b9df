/** A table as rows of cells, rendered as aligned text (terminal) or as Markdown. */
export interface Table {
  readonly head: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Columns aligned right (numbers). */
  readonly right?: ReadonlySet<number>;
}

export function renderText(table: Table): string {
  const widths = table.head.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (table.right?.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(table.head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: Table): string {
  const escape = (c: string): string => c.replace(/\|/g, '\\|');
  const align = table.head.map((_, i) => (table.right?.has(i) ? '---:' : '---'));
  return [table.head, align, ...table.rows].map((r) => `| ${r.map(escape).join(' | ')} |`).join('\n');
}
