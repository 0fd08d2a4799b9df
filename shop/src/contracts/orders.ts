import { defineEvent } from '@herald/core';
import { z } from 'zod';
import { parseAmountToCents } from './money.ts';

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

/** `OrderPlaced` as the order service publishes it: priced lines, the amount in integer cents. */
const HeraldOrderPlaced = z.object({
  orderId: z.string().min(1),
  userId: z.string().min(1),
  items: z.array(OrderLine).min(1),
  amountCents: z.number().int().nonnegative(),
});

/** A decimal amount with at most two decimals (`100`, `99.5`, `"12.30"`), as integer cents. */
const DecimalAmount = z.union([z.number(), z.string()]).transform((amount, context) => {
  const cents =
    typeof amount === 'string'
      ? parseAmountToCents(amount)
      : Number.isFinite(amount) && amount >= 0 && Math.abs(amount * 100 - Math.round(amount * 100)) < 1e-6
        ? Math.round(amount * 100)
        : undefined;
  if (cents === undefined) {
    context.addIssue({ code: 'custom', message: 'a decimal amount >= 0 with at most two decimals' });
    return z.NEVER;
  }
  return cents;
});

/**
 * `OrderPlaced` as clients that know nothing of Herald publish it (the seed's shape): `{"orderId": "123",
 * "userId": "456", "amount": 100}`, a decimal amount and no items. Normalised to the Herald shape: `amountCents`,
 * and `items: []` (nothing to reserve: inventory leaves such orders alone, payment charges the amount).
 */
const PlainOrderPlaced = z
  .object({ orderId: z.string().min(1), userId: z.string().min(1), amount: DecimalAmount })
  .transform(({ orderId, userId, amount }) => ({
    orderId,
    userId,
    items: [] as OrderLine[],
    amountCents: amount,
  }));

/**
 * A customer placed an order; payment and inventory act on it. Amounts are integer cents. Handlers also accept
 * the plain shape of clients outside Herald (see `PlainOrderPlaced`), normalised, so `items` may be empty there.
 */
export const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  topic: 'orders',
  schema: z.union([HeraldOrderPlaced, PlainOrderPlaced]),
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

/**
 * An order's payment deadline passed: the order service scheduled it when the order was placed (`deliverAt` =
 * placed + the deadline), so it arrives at the deadline whatever the services did meanwhile. The order service
 * cancels an order still unpaid then (the usual compensation follows) and ignores it for any other. On a topic of
 * its own, read by the order service only.
 */
export const PaymentDeadlineReached = defineEvent({
  type: 'PaymentDeadlineReached',
  topic: 'order-deadlines',
  schema: z.object({
    orderId: z.string().min(1),
    /** The deadline, RFC 3339. */
    deadline: z.iso.datetime(),
  }),
  key: byOrder,
});
