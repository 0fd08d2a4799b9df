import { formatCents } from './money.ts';

/**
 * Cancellation reasons, as the order API shows them. Each starts with a stable phrase (`payment declined`,
 * `out of stock`, `unknown sku`) that clients and tests can match; the rest is for people.
 */
export const reasons = {
  paymentDeclined: (amountCents: number, limitCents: number): string =>
    `payment declined: amount ${formatCents(amountCents)} exceeds the limit of ${formatCents(limitCents)}`,
  outOfStock: (shortages: readonly { sku: string; requested: number; available: number }[]): string =>
    `out of stock: ${shortages.map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`).join(', ')}`,
  unknownSku: (skus: readonly string[]): string => `unknown sku: ${skus.join(', ')}`,
  paymentDeadline: (deadlineMs: number): string =>
    `payment deadline passed: not paid within ${formatDuration(deadlineMs)} of the order`,
} as const;

/** `900000` → `15 min`, `1500` → `1.5 s`: a deadline as people read it. */
function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
