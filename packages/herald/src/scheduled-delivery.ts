import { configError, ErrorCodes, HeraldError } from './errors.ts';
import type { Transport, TransportRecord } from './transport.ts';

/**
 * The CloudEvents extension attribute that carries when a scheduled event is due: an RFC 3339 UTC time with
 * milliseconds (`2026-12-04T10:00:00.000Z`). A transport that declares `scheduledDelivery`, and every outbox
 * relay, hold a record carrying a due time in the future until that time; consumers still see the attribute
 * (`event.extensions.deliverat`), so a handler can tell how late it runs.
 */
export const DELIVER_AT_ATTRIBUTE = 'deliverat';

/** When a published event is due, as {@link PublishOptions} take it: at most one of the two. */
export interface ScheduleOptions {
  /** Deliver no sooner than this time. A time in the past delivers at once. */
  readonly deliverAt?: Date;
  /** Deliver no sooner than this many milliseconds from now (a finite number >= 0). */
  readonly delay?: number;
}

/**
 * The due time that `options` ask for, as the `deliverat` attribute value, or `undefined` when they ask for none.
 * Throws `HERALD_CONFIG` (permanent) for both options at once, an invalid `Date`, or a `delay` that is not a
 * finite number >= 0.
 */
export function deliverAtOf(options: ScheduleOptions, now = Date.now()): string | undefined {
  const { deliverAt, delay } = options;
  if (deliverAt !== undefined && delay !== undefined) {
    throw configError('deliverAt', 'either deliverAt or delay, not both', { deliverAt, delay });
  }
  if (deliverAt !== undefined) {
    if (!(deliverAt instanceof Date) || Number.isNaN(deliverAt.getTime())) {
      throw configError('deliverAt', 'a valid Date', deliverAt);
    }
    return deliverAt.toISOString();
  }
  if (delay !== undefined) {
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
      throw configError('delay', 'a finite number of milliseconds >= 0', delay);
    }
    return new Date(now + delay).toISOString();
  }
  return undefined;
}

/**
 * The due time of a record, in ms since the epoch: its `deliverat` attribute, or `undefined` when it has none or
 * it is not a valid time (such a record is delivered at once, like an unscheduled one).
 */
export function recordDueAt(record: TransportRecord): number | undefined {
  const value = record.attributes[DELIVER_AT_ATTRIBUTE];
  if (value === undefined) return undefined;
  const due = Date.parse(value);
  return Number.isNaN(due) ? undefined : due;
}

/** True when the record carries a due time later than `now`: it must wait. */
export function isScheduledLater(record: TransportRecord, now = Date.now()): boolean {
  const due = recordDueAt(record);
  return due !== undefined && due > now;
}

/**
 * The error for a record due later on a transport that does not declare `scheduledDelivery` (it would deliver it
 * at once): `HERALD_UNSUPPORTED`, permanent, naming the way that works everywhere, an outbox, whose relay holds
 * each row until it is due.
 */
export function refuseScheduling(transport: Transport, deliverAt: string): HeraldError {
  return new HeraldError(
    ErrorCodes.UNSUPPORTED,
    `The ${transport.name} transport has no scheduled delivery (capabilities.scheduledDelivery is false), so ` +
      `it cannot hold an event until ${deliverAt}: emit it through an outbox (sqliteOutbox, postgresOutbox, ` +
      `or a unit of work), whose relay holds the row until it is due`,
    { permanent: true, details: { transport: transport.name, deliverAt } },
  );
}

/**
 * Throws {@link refuseScheduling}'s error when one of `records` is due later and `transport` does not declare
 * `scheduledDelivery`. For code that publishes records straight to a transport (tools, bridges).
 */
export function assertSchedulable(transport: Transport, records: readonly TransportRecord[]): void {
  if (transport.capabilities.scheduledDelivery) return;
  const now = Date.now();
  const later = records.find((record) => isScheduledLater(record, now));
  if (later !== undefined) throw refuseScheduling(transport, later.attributes[DELIVER_AT_ATTRIBUTE]!);
}
