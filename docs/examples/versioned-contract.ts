import { createPublisher, createRouter, defineEvent, type Transport } from '@herald/core';
import { z } from 'zod';

// Version 1, as it was first deployed: one amount in cents. Old events of this shape stay in logs and in
// dead-letter queues for as long as they are kept.
export const OrderPlacedV1 = defineEvent({
  type: 'OrderPlaced',
  topic: 'orders',
  key: (order) => order.orderId,
  schema: z.object({ orderId: z.string(), amountCents: z.number().int() }),
});

// Version 2 splits the amount into money with a currency: a breaking change, so the version is bumped and an
// upcaster reads version 1. Same type, same topic: routing, keys and dead-letter queues do not change.
export const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  topic: 'orders',
  key: (order) => order.orderId,
  schema: z.object({
    orderId: z.string(),
    total: z.object({ cents: z.number().int(), currency: z.string().length(3) }),
  }),
  version: 2,
  upcasters: {
    1: (data) => {
      const v1 = data as { orderId: string; amountCents: number };
      return { orderId: v1.orderId, total: { cents: v1.amountCents, currency: 'EUR' } };
    },
  },
});

/** Publishes one event of each version; the v2 handler receives both as v2. */
export async function bothVersions(transport: Transport): Promise<string[]> {
  const received: string[] = [];
  const billing = createRouter({ transport, group: 'billing', source: '/shop/billing' });
  billing.on(OrderPlaced, (event) => {
    received.push(`${event.data.orderId}: ${event.data.total.cents} ${event.data.total.currency}`);
  });
  await billing.start();
  const publisher = createPublisher({ transport, source: '/shop/orders' });
  await publisher.publish(OrderPlacedV1, { orderId: 'o-1', amountCents: 1250 });
  await publisher.publish(OrderPlaced, { orderId: 'o-2', total: { cents: 990, currency: 'USD' } });
  while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  await billing.close();
  return received.sort();
}
