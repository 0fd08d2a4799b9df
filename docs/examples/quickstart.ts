import { createPublisher, createRouter, defineEvent, memory } from '@herald/core';
import { z } from 'zod';

// A typed contract: type, topic, partition key and schema. It types both `publish` and the handler.
export const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  topic: 'orders',
  key: (order) => order.orderId,
  schema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
});

export async function quickstart(): Promise<string[]> {
  const transport = memory(); // or sqlite({ path }), from @herald/sqlite
  const received: string[] = [];

  const payments = createRouter({ transport, group: 'payment', source: '/shop/payment' });
  payments.on(OrderPlaced, (event) => {
    received.push(`${event.data.orderId}: ${event.data.amountCents} cents`);
  });
  await payments.start();

  const publisher = createPublisher({ transport, source: '/shop/order' });
  await publisher.publish(OrderPlaced, { orderId: 'o-1', amountCents: 4200 });

  while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await payments.close();
  await transport.close();
  return received;
}
