/**
 * The test's own way onto a running shop's broker: the engine's transport with the shop's topic prefix, opened
 * as the `herald` CLI opens it (`connect` of `@herald/cli`), so it publishes onto the shop's topics and reads its
 * groups' dead-letter queues under their unprefixed names. For tests that write records no service would.
 */
import { connect } from '@herald/cli';
import {
  buildEvent,
  encodeEvent,
  type EventDefinition,
  type Transport,
  type TransportRecord,
} from '@herald/core';
import { SERVICES } from '../../src/contracts/index.ts';
import type { Shop } from './shop-harness.ts';

/** Opens the transport of `shop`'s broker with its topic prefix. The caller closes it. */
export function shopTransport(shop: Shop): Promise<Transport> {
  const env = shop.env();
  return connect({ env: { HERALD_BROKER: env.HERALD_BROKER, HERALD_TOPIC_PREFIX: shop.topicPrefix } });
}

/**
 * A record of a CloudEvent of `definition`'s type, as the order service would send it (its `source`), with `data`
 * as given: not validated, so it may break the schema on purpose.
 */
export function orderServiceRecord(
  definition: EventDefinition,
  data: unknown,
  key: string,
): { id: string; record: TransportRecord } {
  const built = buildEvent(SERVICES.order.source, definition, data as never, { key });
  return { id: built.id, record: encodeEvent(definition.topic, built) };
}

/** Publishes `records` in batches of `batch`, one batch acknowledged before the next is sent. */
export async function publishInBatches(
  transport: Transport,
  records: readonly TransportRecord[],
  batch = 50,
): Promise<void> {
  for (let i = 0; i < records.length; i += batch) await transport.publish(records.slice(i, i + batch));
}
