import { createHash } from 'node:crypto';
import { configError, newEventId, type CloudEvent, type EventDefinition } from '@herald/core';
import {
  findProduct,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  PaymentCompleted,
  PaymentFailed,
  PaymentDeadlineReached,
  PaymentRefunded,
  reasons,
  SERVICES,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '../contracts/index.ts';
import { DEFAULT_PAYMENT_DEADLINE_MS } from '../runtime/config.ts';
import { eventPlumbing, type ServiceOptions } from '../runtime/event-plumbing.ts';
import { silentLogger } from '../runtime/logger.ts';
import { interopRouterOptions } from '../runtime/plain-json-interop.ts';
import type { Tx } from '../runtime/storage.ts';
import { countRefusal } from '../runtime/trusted-source.ts';
import {
  isDuplicateIdempotencyKey,
  orderStores,
  type IdempotencyRecord,
  type HistoryEntry,
  type OrderRecord,
  type OrderStore,
} from './store.ts';

/** A request to place an order, already validated for shape. */
export interface PlaceOrder {
  readonly userId: string;
  readonly items: readonly { readonly sku: string; readonly quantity: number }[];
}

/** Why {@link OrderService.placeOrder} refused an order: SKUs the catalogue does not have, by item index. */
export class UnknownSkuError extends Error {
  constructor(readonly unknown: readonly { index: number; sku: string }[]) {
    super(`unknown sku: ${unknown.map((u) => u.sku).join(', ')}`);
    this.name = 'UnknownSkuError';
  }
}

/** Why {@link OrderService.placeOrderIdempotent} refused: the key was used before with a different request. */
export class IdempotencyKeyReusedError extends Error {
  constructor(
    readonly key: string,
    readonly orderId: string,
  ) {
    super(`Idempotency-Key "${key}" was already used for order ${orderId} with a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** The SHA-256 (hex) of a validated request: what a retry under the same idempotency key must match. */
export function requestHash(request: PlaceOrder): string {
  return createHash('sha256')
    .update(JSON.stringify({ userId: request.userId, items: request.items.map((i) => [i.sku, i.quantity]) }))
    .digest('hex');
}

/** Options of {@link orderService}. */
export interface OrderServiceOptions extends ServiceOptions {
  /**
   * How long after it was placed an order still unpaid is cancelled, ms. Default
   * {@link DEFAULT_PAYMENT_DEADLINE_MS} (15 min).
   */
  readonly paymentDeadlineMs?: number;
}

/**
 * The order service: takes orders (the order row, `OrderPlaced` and its scheduled `PaymentDeadlineReached` in one
 * transaction) and owns the saga. An order is confirmed once it is both paid and reserved, and cancelled, with the
 * reason, as soon as either fails or its payment deadline passes unpaid; `OrderCancelled` makes payment refund and
 * inventory release whatever they did, whatever order the results arrive in. Every state change is one
 * transaction with its inbox record and the events it emits.
 */
export async function orderService(options: OrderServiceOptions) {
  const log = options.log ?? silentLogger;
  const paymentDeadlineMs = options.paymentDeadlineMs ?? DEFAULT_PAYMENT_DEADLINE_MS;
  if (!Number.isSafeInteger(paymentDeadlineMs) || paymentDeadlineMs < 1) {
    throw configError('paymentDeadlineMs', 'an integer number of ms >= 1', paymentDeadlineMs);
  }
  const plumbing = await eventPlumbing({
    ...options,
    ...SERVICES.order,
    log, // CloudEvents only: plain JSON is an opt-in of the services that take a plain OrderPlaced.
    router: interopRouterOptions({ ...options, acceptPlainJson: false }),
    stores: orderStores,
  });
  const { storage, router } = plumbing;

  async function confirmIfDone(order: OrderRecord, { store, emit }: Tx<OrderStore>): Promise<OrderRecord> {
    if (order.status !== 'PENDING' || order.payment !== 'completed' || order.stock !== 'reserved')
      return order;
    const event = await emit(OrderConfirmed, {
      orderId: order.orderId,
      userId: order.userId,
      amountCents: order.amountCents,
    });
    await store.addHistory(order.orderId, event);
    return { ...order, status: 'CONFIRMED' };
  }

  async function cancelIfPending(
    order: OrderRecord,
    reason: string,
    { store, emit }: Tx<OrderStore>,
  ): Promise<OrderRecord> {
    if (order.status !== 'PENDING') return order;
    const event = await emit(OrderCancelled, {
      orderId: order.orderId,
      userId: order.userId,
      amountCents: order.amountCents,
      reason,
    });
    await store.addHistory(order.orderId, event, reason);
    return { ...order, status: 'CANCELLED', reason };
  }

  /**
   * Registers a saga step: loads the order, records the event in its history, applies `step`, saves. Events for
   * an order this service never took are logged and dropped (they cannot become valid later). With `onlyIf`, an
   * event for an order in another status is refused: logged, counted (`herald_events_skipped_total`,
   * `reason="order-settled"`) and left out of the history.
   */
  function step(
    definition: EventDefinition,
    apply: (
      order: OrderRecord,
      event: CloudEvent<{ orderId: string; reason?: string }>,
      tx: Tx<OrderStore>,
    ) => OrderRecord | Promise<OrderRecord>,
    onlyIf?: OrderRecord['status'],
  ): void {
    router.on(definition, async (rawEvent, context) => {
      const event = rawEvent as CloudEvent<{ orderId: string; reason?: string }>;
      let refusedIn: OrderRecord['status'] | undefined;
      await storage.handle(context.group, event, async (tx) => {
        const data = event.data;
        const order = await tx.store.get(data.orderId);
        if (order === undefined) {
          log.warn('event for an unknown order ignored', { type: event.type, orderId: data.orderId });
          return;
        }
        if (onlyIf !== undefined && order.status !== onlyIf) {
          refusedIn = order.status;
          return;
        }
        await tx.store.addHistory(order.orderId, event, data.reason);
        const next = await apply(order, event, tx);
        await tx.store.save({ ...next, updatedAt: new Date().toISOString() });
      });
      if (refusedIn === undefined) return;
      log.warn(`refused ${event.type} for order ${event.data.orderId}: the order is ${refusedIn}`, {
        eventId: event.id,
        orderId: event.data.orderId,
        source: event.source,
      });
      countRefusal(event, context, 'order-settled');
    });
  }

  // Each side only moves forward (pending → done), so a duplicate or late event cannot undo a later state.
  step(PaymentCompleted, (order, _event, tx) =>
    confirmIfDone(order.payment === 'pending' ? { ...order, payment: 'completed' } : order, tx),
  );
  step(PaymentFailed, (order, event, tx) =>
    cancelIfPending(
      order.payment === 'pending' ? { ...order, payment: 'failed' } : order,
      event.data.reason!,
      tx,
    ),
  );
  // Refunds and releases answer the saga's cancellation only: for an order it did not cancel they are refused.
  step(PaymentRefunded, (order) => ({ ...order, payment: 'refunded' }), 'CANCELLED');
  step(StockReserved, (order, _event, tx) =>
    confirmIfDone(order.stock === 'pending' ? { ...order, stock: 'reserved' } : order, tx),
  );
  step(StockUnavailable, (order, event, tx) =>
    cancelIfPending(
      order.stock === 'pending' ? { ...order, stock: 'unavailable' } : order,
      event.data.reason!,
      tx,
    ),
  );
  step(StockReleased, (order) => ({ ...order, stock: 'released' }), 'CANCELLED');

  // The deadline scheduled with the order: an order still PENDING and unpaid is cancelled (payment refunds a charge
  // that comes later, inventory releases its reservation); for any other it is a no-op, not a refusal (most orders
  // settle long before their deadline).
  router.on(PaymentDeadlineReached, async (event, context) => {
    await storage.handle(context.group, event, async (tx) => {
      const order = await tx.store.get(event.data.orderId);
      if (order?.status !== 'PENDING' || order.payment !== 'pending') return;
      const reason = reasons.paymentDeadline(paymentDeadlineMs);
      await tx.store.addHistory(order.orderId, event, reason);
      const next = await cancelIfPending(order, reason, tx);
      await tx.store.save({ ...next, updatedAt: new Date().toISOString() });
      log.info('order cancelled: payment deadline passed', { orderId: order.orderId });
    });
  });

  /** The order as the API shows it, or `undefined`. */
  async function getOrder(orderId: string): Promise<OrderView | undefined> {
    const order = await storage.store.get(orderId);
    return order === undefined ? undefined : toView(order, await storage.store.history(orderId));
  }

  /**
   * Takes an order: prices it from the catalogue, stores it PENDING and stores `OrderPlaced` in the outbox, in
   * one transaction. Throws {@link UnknownSkuError} (nothing stored) when an item's SKU is not in the catalogue.
   */
  async function placeOrder(request: PlaceOrder, idempotency?: IdempotencyRecord): Promise<OrderView> {
    const unknown = request.items
      .map((item, index) => ({ index, sku: item.sku }))
      .filter((item) => findProduct(item.sku) === undefined);
    if (unknown.length > 0) throw new UnknownSkuError(unknown);
    const items = request.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      unitPriceCents: findProduct(item.sku)!.priceCents,
    }));
    const amountCents = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
    const order = { orderId: newEventId(), userId: request.userId, items, amountCents };
    await storage.run(async ({ store, emit }) => {
      const at = new Date();
      await store.insert({
        ...order,
        at: at.toISOString(),
        ...(idempotency === undefined ? {} : { idempotency }),
      });
      const event = await emit(OrderPlaced, order);
      await store.addHistory(order.orderId, event);
      // Held by the outbox (or the transport) until the deadline; committed with the order, or not at all.
      const deadline = new Date(at.getTime() + paymentDeadlineMs);
      await emit(
        PaymentDeadlineReached,
        { orderId: order.orderId, deadline: deadline.toISOString() },
        { deliverAt: deadline },
      );
    });
    log.info('order placed', { orderId: order.orderId, amountCents });
    return (await getOrder(order.orderId))!;
  }

  return {
    ...plumbing,
    store: storage.store,
    placeOrder: (request: PlaceOrder): Promise<OrderView> => placeOrder(request),
    /**
     * {@link placeOrder} under a client's idempotency key: the first request with `key` places the order (and
     * stores the key with it, in the same transaction); a later one with the same request returns that order
     * with `replayed: true` and places nothing; one with a different request throws
     * {@link IdempotencyKeyReusedError}. Concurrent requests with one key create one order: the database's unique
     * index on the key decides, and the losers read the winner's order.
     */
    async placeOrderIdempotent(
      request: PlaceOrder,
      key: string,
    ): Promise<{ order: OrderView; replayed: boolean }> {
      const hash = requestHash(request);
      const replay = async (): Promise<{ order: OrderView; replayed: boolean } | undefined> => {
        const existing = await storage.store.byIdempotencyKey(key);
        if (existing === undefined) return undefined;
        if (existing.requestHash !== hash) throw new IdempotencyKeyReusedError(key, existing.orderId);
        return { order: (await getOrder(existing.orderId))!, replayed: true };
      };
      const earlier = await replay();
      if (earlier !== undefined) return earlier;
      try {
        return { order: await placeOrder(request, { key, requestHash: hash }), replayed: false };
      } catch (error) {
        if (!isDuplicateIdempotencyKey(error)) throw error;
        const winner = await replay();
        if (winner === undefined) throw error;
        return winner;
      }
    },
    getOrder,
    /**
     * A page of every order, newest first, without their history: up to `limit` orders after order `after` (from
     * the newest when absent); `undefined` when there is no order `after`. See `OrderStore.page`.
     */
    async listOrders(after: string | undefined, limit: number): Promise<OrderSummary[] | undefined> {
      return (await storage.store.page(after, limit))?.map(toSummary);
    },
  };
}

/** A running order service (see {@link orderService}). */
export type OrderService = Awaited<ReturnType<typeof orderService>>;

/** An order in the API: amounts in currency units, items with their names. */
export interface OrderView extends OrderSummary {
  readonly items: readonly { sku: string; name: string; quantity: number; price: number }[];
  readonly history: readonly HistoryEntry[];
  readonly updatedAt: string;
}

/** A line of `GET /orders`. */
export interface OrderSummary {
  readonly orderId: string;
  readonly userId: string;
  readonly status: OrderRecord['status'];
  readonly reason?: string;
  readonly amount: number;
  readonly createdAt: string;
}

function toSummary(order: OrderRecord): OrderSummary {
  return {
    orderId: order.orderId,
    userId: order.userId,
    status: order.status,
    ...(order.reason === undefined ? {} : { reason: order.reason }),
    amount: order.amountCents / 100,
    createdAt: order.createdAt,
  };
}

function toView(order: OrderRecord, history: readonly HistoryEntry[]): OrderView {
  return {
    ...toSummary(order),
    items: order.items.map((item) => ({
      sku: item.sku,
      name: findProduct(item.sku)?.name ?? item.sku,
      quantity: item.quantity,
      price: item.unitPriceCents / 100,
    })),
    history,
    updatedAt: order.updatedAt,
  };
}
