import { messagingMetrics, type CloudEvent, type HandlerContext } from '@herald/core';
import { SERVICES } from '../contracts/index.ts';
import type { Logger } from './logger.ts';
import type { OrderOutcome } from './order-outcome.ts';
import { PLAIN_SOURCE_PREFIX } from './plain-json-interop.ts';

/**
 * Why a consumer refused an event it has a handler for: `untrusted-source` (not sent by the service that owns
 * the type) or `order-settled` (a second, different outcome for an order the saga already settled).
 */
export type RefusalReason = 'untrusted-source' | 'order-settled';

/**
 * Counts a refused event in `herald_events_skipped_total{reason}` (the registered messaging metrics: acked, not
 * handled). Without a registered backend it does nothing.
 */
export function countRefusal(event: CloudEvent, context: HandlerContext, reason: RefusalReason): void {
  messagingMetrics()?.skipped(
    { topic: context.delivery.record.topic, type: event.type, group: context.group },
    reason,
  );
}

/**
 * True when `event` comes from the order service (its CloudEvents `source` is `SERVICES.order.source`), or, with
 * `alsoPlainClients` (a service that opted in to plain JSON, for `OrderPlaced`), from a plain JSON record (source
 * `/plain/<topic>`, see `plain-json-interop.ts`); else logs
 * a warning (type, id, source, no payload), counts it (`reason="untrusted-source"`) and returns false, and the
 * caller ignores the event. It guards the effects only the saga may order (refund, release, the cancellation and
 * confirmation notices) against events any other writer of the log sends. It is a check of the declared source,
 * not authentication: a writer that forges the source itself is stopped by the broker's access control, and by
 * {@link refuseSettled} for a second outcome of a settled order, not here.
 */
export function fromOrderService(
  event: CloudEvent,
  log: Logger,
  context: HandlerContext,
  alsoPlainClients = false,
): boolean {
  if (event.source === SERVICES.order.source) return true;
  if (alsoPlainClients && event.source.startsWith(PLAIN_SOURCE_PREFIX)) return true;
  log.warn(
    `ignored ${event.type} from source ${JSON.stringify(event.source)}: only the order service sends it` +
      (alsoPlainClients ? ' (or a plain JSON client)' : ''),
    {
      eventId: event.id,
      source: event.source,
    },
  );
  countRefusal(event, context, 'untrusted-source');
  return false;
}

/**
 * Logs (type, id, order, the standing outcome; no payload) and counts (`reason="order-settled"`) an
 * `OrderConfirmed`/`OrderCancelled` refused because the order was already settled the other way: the saga sends
 * one outcome per order, so the second is forged or corrupt. Call it once the refusal is committed (with the inbox
 * record), so a redelivery is neither acted on nor counted twice.
 */
export function refuseSettled(
  event: CloudEvent<{ orderId: string }>,
  standing: OrderOutcome,
  log: Logger,
  context: HandlerContext,
): void {
  log.warn(`refused ${event.type} for order ${event.data.orderId}: the order is already ${standing}`, {
    eventId: event.id,
    orderId: event.data.orderId,
    source: event.source,
  });
  countRefusal(event, context, 'order-settled');
}
