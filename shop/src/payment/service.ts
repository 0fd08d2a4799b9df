import { randomUUID } from 'node:crypto';
import { configError } from '@herald/core';
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
import { eventPlumbing, type ServiceOptions } from '../runtime/event-plumbing.ts';
import { silentLogger } from '../runtime/logger.ts';
import { interopRouterOptions, type PlainJsonInterop } from '../runtime/plain-json-interop.ts';
import { recordConfirmations, type OrderOutcome } from '../runtime/order-outcome.ts';
import { fromOrderService, refuseSettled } from '../runtime/trusted-source.ts';
import { PaymentFaults, PaymentProviderUnavailable } from './faults.ts';
import { paymentStores } from './store.ts';

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
export interface PaymentServiceOptions extends ServiceOptions, PlainJsonInterop {
  /** Charges above this amount (integer cents) are declined. Default {@link DEFAULT_LIMIT_CENTS}. */
  readonly limitCents?: number;
  /** Simulated faults (`PAYMENT_FAULTS`, `POST /admin/faults`). Default: none on. */
  readonly faults?: PaymentFaults;
}

/**
 * The payment service, a simulated provider: declines deterministically when the amount is over the limit,
 * charges each order at most once, and refunds a charge at most once when the order is cancelled. A cancellation
 * of an order the saga confirmed is refused (logged and counted, nothing refunded): the saga settles an order once. Each effect
 * is one transaction with its inbox record and the event announcing it. It charges only an `OrderPlaced` the
 * order service sent, or, with `acceptPlainJson`, one a client outside Herald sent as plain JSON (the seed's
 * shape; see the contract and `plain-json-interop.ts`).
 */
export async function paymentService(options: PaymentServiceOptions) {
  const limitCents = options.limitCents ?? DEFAULT_LIMIT_CENTS;
  if (!Number.isInteger(limitCents) || limitCents < 0)
    throw configError('limitCents', 'an integer >= 0', limitCents);
  const acceptPlainJson = options.acceptPlainJson ?? false;
  const log = options.log ?? silentLogger;
  const faults = options.faults ?? new PaymentFaults();
  const plumbing = await eventPlumbing({
    ...options,
    ...SERVICES.payment,
    log,
    router: interopRouterOptions(options),
    stores: paymentStores,
  });
  const { storage, router } = plumbing;

  // Charges only what the order service placed, or, opted in, what a plain JSON client placed.
  router.on(OrderPlaced, async (event, context) => {
    if (!fromOrderService(event, log, context, acceptPlainJson)) return;
    await storage.handle(context.group, event, async ({ store, emit }) => {
      const { orderId, amountCents } = event.data;
      // Already charged, declined, or cancelled before we saw it: never charge again.
      if ((await store.get(orderId)) !== undefined) return;
      // Before any write: the transaction rolls back and the delivery is retried, then dead-lettered.
      if (faults.isOn('provider-down')) throw new PaymentProviderUnavailable();
      if (amountCents > limitCents) {
        const reason = reasons.paymentDeclined(amountCents, limitCents);
        await store.put({ orderId, status: 'declined', amountCents, paymentId: undefined, reason });
        await emit(PaymentFailed, { orderId, amountCents, reason });
        log.info('payment declined', { orderId, amountCents });
        return;
      }
      const paymentId = randomUUID();
      await store.put({ orderId, status: 'charged', amountCents, paymentId, reason: undefined });
      await store.addLedger({ orderId, kind: 'charge', amountCents, paymentId });
      await emit(PaymentCompleted, { orderId, paymentId, amountCents });
      log.info('payment charged', { orderId, amountCents });
    });
  });

  // The saga settles each order once; remembering how lets a cancellation of a confirmed order be refused.
  recordConfirmations(router, storage, log);

  router.on(OrderCancelled, async (event, context) => {
    if (!fromOrderService(event, log, context)) return;
    let refusedBy: OrderOutcome | undefined;
    await storage.handle(context.group, event, async ({ store, emit }) => {
      const { orderId, amountCents } = event.data;
      const standing = await store.settle(orderId, 'cancelled');
      if (standing !== 'cancelled') {
        refusedBy = standing;
        return;
      }
      const payment = await store.get(orderId);
      if (payment === undefined) {
        await store.put({
          orderId,
          status: 'cancelled',
          amountCents,
          paymentId: undefined,
          reason: event.data.reason,
        });
        return;
      }
      if (payment.status !== 'charged') return;
      await store.put({ ...payment, status: 'refunded' });
      await store.addLedger({
        orderId,
        kind: 'refund',
        amountCents: payment.amountCents,
        paymentId: payment.paymentId!,
      });
      await emit(PaymentRefunded, {
        orderId,
        paymentId: payment.paymentId!,
        amountCents: payment.amountCents,
      });
      log.info('payment refunded', { orderId, amountCents: payment.amountCents });
    });
    if (refusedBy !== undefined) refuseSettled(event, refusedBy, log, context);
  });

  return { ...plumbing, store: storage.store, limitCents, acceptPlainJson, faults };
}

/** A running payment service (see {@link paymentService}). */
export type PaymentService = Awaited<ReturnType<typeof paymentService>>;
