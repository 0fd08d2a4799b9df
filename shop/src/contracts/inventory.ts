import { defineEvent } from '@herald/core';
import { z } from 'zod';

const byOrder = (data: { orderId: string }): string => data.orderId;

/** A quantity of one SKU. */
export const StockLine = z.object({ sku: z.string().min(1), quantity: z.number().int().positive() });
/** A quantity of one SKU. */
export type StockLine = z.infer<typeof StockLine>;

/** Every item of the order was reserved (all or nothing). */
export const StockReserved = defineEvent({
  type: 'StockReserved',
  topic: 'inventory',
  schema: z.object({ orderId: z.string().min(1), items: z.array(StockLine).min(1) }),
  key: byOrder,
});

/** Some item could not be reserved, so nothing was. */
export const StockUnavailable = defineEvent({
  type: 'StockUnavailable',
  topic: 'inventory',
  schema: z.object({
    orderId: z.string().min(1),
    reason: z.string().min(1),
    shortages: z.array(
      z.object({ sku: z.string(), requested: z.number().int(), available: z.number().int().nonnegative() }),
    ),
  }),
  key: byOrder,
});

/** A reservation was given back because the order was cancelled. */
export const StockReleased = defineEvent({
  type: 'StockReleased',
  topic: 'inventory',
  schema: z.object({ orderId: z.string().min(1), items: z.array(StockLine).min(1) }),
  key: byOrder,
});
