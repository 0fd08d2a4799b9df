import type { Spread } from './stats.ts';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12,345 */
export function count(n: number): string {
  return Number.isFinite(n) ? integer.format(n) : '–';
}

/** Milliseconds with 2 significant decimals below 10 ms. */
export function millis(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

export function decimal(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

/** `median (min–max)`, or the median alone for one repetition. */
export function withRange(s: Spread, format: (n: number) => string): string {
  if (s.n === 0) return '–';
  if (s.n === 1) return format(s.median);
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

export function ratio(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}×` : '–';
}
