import { defineEvent } from '@herald/core';
import { z } from 'zod';

/** Partition key of every shop event: the order id, so each order's events stay in order. */
const byOrder = (data: { orderId: string }): string => data.orderId;

/** One line of an order, priced when it was placed. */
export const OrderLine = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  /** Price per unit when the order was placed, in cents. */
  unitPriceCents: z.number().int().nonnegative(),
});
/** One line of an order, priced when it was placed. */
export type OrderLine = z.infer<typeof OrderLine>;

/** A customer placed an order; payment and inventory act on it. Amounts are integer cents. */
export const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  topic: 'orders',
  schema: z.object({
    orderId: z.string().min(1),
    userId: z.string().min(1),
    items: z.array(OrderLine).min(1),
    amountCents: z.number().int().nonnegative(),
  }),
  key: byOrder,
});

/** The order was both paid and reserved: it will ship. */
export const OrderConfirmed = defineEvent({
  type: 'OrderConfirmed',
  topic: 'orders',
  schema: z.object({ orderId: z.string().min(1), userId: z.string().min(1), amountCents: z.number().int() }),
  key: byOrder,
});

/**
 * The order was cancelled because payment or reservation failed. Payment refunds what it charged, inventory
 * releases what it reserved.
 */
export const OrderCancelled = defineEvent({
  type: 'OrderCancelled',
  topic: 'orders',
  schema: z.object({
    orderId: z.string().min(1),
    userId: z.string().min(1),
    amountCents: z.number().int(),
    reason: z.string().min(1),
  }),
  key: byOrder,
});
