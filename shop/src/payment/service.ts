import { randomUUID } from 'node:crypto';
import { configError, type Transport } from '@herald/core';
import type { SqliteDatabase } from '@herald/sqlite';
import {
  OrderCancelled,
  OrderPlaced,
  parseAmountToCents,
  PaymentCompleted,
  PaymentFailed,
  PaymentRefunded,
  reasons,
  SERVICES,
} from '../contracts/index.ts';
import { eventPlumbing, type EventPlumbingOptions } from '../runtime/event-plumbing.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import { paymentStore } from './store.ts';

/** The default payment limit: 5,000.00. */
export const DEFAULT_LIMIT_CENTS = 500_000;

/** Reads `PAYMENT_LIMIT` (a decimal amount such as `5000` or `5000.00`). Throws `HERALD_CONFIG` naming it. */
export function paymentLimitFrom(env: NodeJS.ProcessEnv): number {
  const text = env.PAYMENT_LIMIT;
  if (text === undefined || text === '') return DEFAULT_LIMIT_CENTS;
  const cents = parseAmountToCents(text);
  if (cents === undefined) throw configError('PAYMENT_LIMIT', 'a decimal amount such as 5000.00', text);
  return cents;
}

/** Options of {@link paymentService}. */
export interface PaymentServiceOptions {
  readonly db: SqliteDatabase;
  readonly transport: Transport;
  /** Charges above this amount (integer cents) are declined. Default {@link DEFAULT_LIMIT_CENTS}. */
  readonly limitCents?: number;
  readonly log?: Logger;
  readonly relay?: EventPlumbingOptions['relay'];
  readonly router?: EventPlumbingOptions['router'];
}

/**
 * The payment service, a simulated provider: declines deterministically when the amount is over the limit,
 * charges each order at most once, and refunds a charge at most once when the order is cancelled. Each effect
 * is one transaction with its inbox record and the event announcing it.
 */
export function paymentService(options: PaymentServiceOptions) {
  const { db, transport } = options;
  const limitCents = options.limitCents ?? DEFAULT_LIMIT_CENTS;
  if (!Number.isInteger(limitCents) || limitCents < 0)
    throw configError('limitCents', 'an integer >= 0', limitCents);
  const log = options.log ?? silentLogger;
  const store = paymentStore(db);
  const plumbing = eventPlumbing({
    db,
    transport,
    log,
    ...SERVICES.payment,
    relay: options.relay,
    router: options.router,
  });
  const { uow, router } = plumbing;

  router.on(
    OrderPlaced,
    uow.handler((event, { emit }) => {
      const { orderId, amountCents } = event.data;
      // Already charged, declined, or cancelled before we saw it: never charge again.
      if (store.get(orderId) !== undefined) return;
      if (amountCents > limitCents) {
        const reason = reasons.paymentDeclined(amountCents, limitCents);
        store.put({ orderId, status: 'declined', amountCents, paymentId: undefined, reason });
        emit(PaymentFailed, { orderId, amountCents, reason });
        log.info('payment declined', { orderId, amountCents });
        return;
      }
      const paymentId = randomUUID();
      store.put({ orderId, status: 'charged', amountCents, paymentId, reason: undefined });
      store.addLedger({ orderId, kind: 'charge', amountCents, paymentId });
      emit(PaymentCompleted, { orderId, paymentId, amountCents });
      log.info('payment charged', { orderId, amountCents });
    }),
  );

  router.on(
    OrderCancelled,
    uow.handler((event, { emit }) => {
      const { orderId, amountCents } = event.data;
      const payment = store.get(orderId);
      if (payment === undefined) {
        store.put({
          orderId,
          status: 'cancelled',
          amountCents,
          paymentId: undefined,
          reason: event.data.reason,
        });
        return;
      }
      if (payment.status !== 'charged') return;
      store.put({ ...payment, status: 'refunded' });
      store.addLedger({
        orderId,
        kind: 'refund',
        amountCents: payment.amountCents,
        paymentId: payment.paymentId!,
      });
      emit(PaymentRefunded, { orderId, paymentId: payment.paymentId!, amountCents: payment.amountCents });
      log.info('payment refunded', { orderId, amountCents: payment.amountCents });
    }),
  );

  return { ...plumbing, store, limitCents };
}

/** A running payment service (see {@link paymentService}). */
export type PaymentService = ReturnType<typeof paymentService>;
