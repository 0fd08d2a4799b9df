// The events the inbox and unit-of-work tests handle and emit: an order's id and amount, keyed by the order.
import { z } from 'zod';
import { defineEvent } from '@herald/core';

const orderAmount = z.object({ orderId: z.string(), amount: z.number().int() });

const orderEvent = (type: string, topic: string) =>
  defineEvent({ type, topic, schema: orderAmount, key: (data) => data.orderId });

/** An order was placed: what the tests' handlers receive. */
export const OrderPlaced = orderEvent('OrderPlaced', 'orders');
/** A payment went through: what the unit-of-work tests' handlers emit. */
export const PaymentSucceeded = orderEvent('PaymentSucceeded', 'payments');
