/** Formats integer cents as a decimal amount for people and APIs: 500000 → 5000 (JSON) / "5000.00" (text). */
export function centsToAmount(cents: number): number {
  return cents / 100;
}

/** Formats integer cents with two decimals, for messages: 519600 → "5196.00". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Parses a decimal amount with at most two decimals ("5000", "5000.5", "5000.00") into integer cents, exactly
 * (no float arithmetic). Returns `undefined` for anything else.
 */
export function parseAmountToCents(text: string): number | undefined {
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (match === null) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}
