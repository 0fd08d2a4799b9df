import { createPublisher, createRouter, defineEvent, type Transport } from '@herald/core';
import { z } from 'zod';

export const CartAbandoned = defineEvent({
  type: 'CartAbandoned',
  topic: 'cart-reminders',
  key: (cart) => cart.cartId,
  schema: z.object({ cartId: z.string() }),
});

/** Schedules a reminder `delayMs` from now; resolves with how long after the publish the handler ran. */
export async function remindLater(transport: Transport, delayMs: number): Promise<number> {
  const publishedAt = Date.now();
  let handled!: (ms: number) => void;
  const ran = new Promise<number>((resolve) => (handled = resolve));
  const router = createRouter({ transport, group: 'reminders', source: '/shop/reminders' });
  router.on(CartAbandoned, () => handled(Date.now() - publishedAt));
  await router.start();

  const publisher = createPublisher({ transport, source: '/shop/cart' });
  // Held by the transport (or the outbox relay) until due, then delivered once: no sleeping consumer.
  await publisher.publish(CartAbandoned, { cartId: 'c-1' }, { delay: delayMs });

  const elapsed = await ran;
  await router.close();
  return elapsed;
}
