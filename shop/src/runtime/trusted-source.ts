import type { CloudEvent } from '@herald/core';
import { SERVICES } from '../contracts/index.ts';
import type { Logger } from './logger.ts';

/**
 * True when `event` comes from the order service (its CloudEvents `source` is `SERVICES.order.source`); else logs
 * a warning (type, id, source, no payload) and returns false, and the caller ignores the event. It guards the
 * effects only the saga may order (refund, release, the cancellation and confirmation notices) against events
 * any other writer of the log sends. It is a check of the declared source, not authentication: a writer that
 * forges the source itself is stopped by the broker's access control, not here.
 */
export function fromOrderService(event: CloudEvent, log: Logger): boolean {
  if (event.source === SERVICES.order.source) return true;
  log.warn(
    `ignored ${event.type} from source ${JSON.stringify(event.source)}: only the order service sends it`,
    {
      eventId: event.id,
      source: event.source,
    },
  );
  return false;
}
