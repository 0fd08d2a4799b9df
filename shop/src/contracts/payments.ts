import { defineEvent } from '@herald/core';
import { z } from 'zod';

const byOrder = (data: { orderId: string }): string => data.orderId;

/** The order's amount was charged (once per order). */
export const PaymentCompleted = defineEvent({
  type: 'PaymentCompleted',
  topic: 'payments',
  schema: z.object({
    orderId: z.string().min(1),
    paymentId: z.string().min(1),
    amountCents: z.number().int(),
  }),
  key: byOrder,
});

/** The charge was declined; nothing was taken. */
export const PaymentFailed = defineEvent({
  type: 'PaymentFailed',
  topic: 'payments',
  schema: z.object({ orderId: z.string().min(1), amountCents: z.number().int(), reason: z.string().min(1) }),
  key: byOrder,
});

/** A charge was given back because the order was cancelled (once per charge). */
export const PaymentRefunded = defineEvent({
  type: 'PaymentRefunded',
  topic: 'payments',
  schema: z.object({
    orderId: z.string().min(1),
    paymentId: z.string().min(1),
    amountCents: z.number().int(),
  }),
  key: byOrder,
});
