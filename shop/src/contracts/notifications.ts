import { defineEvent } from '@herald/core';
import { z } from 'zod';

/** Which outcome of an order a notification tells. */
export const NotificationOutcome = z.enum(['confirmed', 'cancelled']);
/** Which outcome of an order a notification tells. */
export type NotificationOutcome = z.infer<typeof NotificationOutcome>;

/** The customer was told the outcome of their order (at most once per order and outcome). */
export const NotificationSent = defineEvent({
  type: 'NotificationSent',
  topic: 'notifications',
  schema: z.object({
    notificationId: z.string().min(1),
    orderId: z.string().min(1),
    userId: z.string().min(1),
    outcome: NotificationOutcome,
    channel: z.string().min(1),
  }),
  key: (data) => data.orderId,
});
