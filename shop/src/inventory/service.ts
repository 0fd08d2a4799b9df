import {
  OrderCancelled,
  OrderPlaced,
  reasons,
  SERVICES,
  StockReleased,
  StockReserved,
  StockUnavailable,
  type StockLine,
} from '../contracts/index.ts';
import { eventPlumbing, type ServiceOptions } from '../runtime/event-plumbing.ts';
import { silentLogger } from '../runtime/logger.ts';
import { interopRouterOptions, type PlainJsonInterop } from '../runtime/plain-json-interop.ts';
import { recordConfirmations, type OrderOutcome } from '../runtime/order-outcome.ts';
import { fromOrderService, refuseSettled } from '../runtime/trusted-source.ts';
import { inventoryStores, type StockLevel } from './store.ts';

/** Sums quantities per SKU, so an order listing a SKU twice is checked against the stock once. */
function bySku(items: readonly StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity);
  return [...totals].map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * The inventory service: a catalogue seeded with finite stock. Reserves all of an order's items or none,
 * releases a reservation when the order is cancelled (never once the saga confirmed it: that cancellation is
 * refused, logged and counted), and never lets stock go below zero (checked in code and by
 * the table's constraints). Each change is one transaction with its inbox record and its event.
 */
export async function inventoryService(
  options: ServiceOptions & PlainJsonInterop & { readonly initialStock?: number },
) {
  const acceptPlainJson = options.acceptPlainJson ?? false;
  const log = options.log ?? silentLogger;
  const plumbing = await eventPlumbing({
    ...options,
    ...SERVICES.inventory,
    log,
    router: interopRouterOptions(options),
    stores: inventoryStores(options.initialStock),
  });
  const { storage, router } = plumbing;

  router.on(OrderPlaced, async (event, context) => {
    if (!fromOrderService(event, log, context, acceptPlainJson)) return;
    await storage.handle(context.group, event, async ({ store, emit }) => {
      const { orderId } = event.data;
      if (event.data.items.length === 0) {
        // A plain client's order (the seed's shape) lists no items: there is nothing to reserve.
        log.info('order without items: nothing to reserve', { orderId });
        return;
      }
      if ((await store.reservation(orderId)) !== undefined) return;
      const items = bySku(event.data.items);
      // Read (on PostgreSQL: lock) the SKUs in one global order, so two orders never wait on each other's rows.
      const levels = new Map<string, StockLevel | undefined>();
      for (const sku of items.map((item) => item.sku).sort()) levels.set(sku, await store.level(sku));
      const unknown = items.filter((item) => levels.get(item.sku) === undefined).map((item) => item.sku);
      const shortages = items
        .map((item) => ({
          sku: item.sku,
          requested: item.quantity,
          available: levels.get(item.sku)?.available ?? 0,
        }))
        .filter((s) => s.requested > s.available);
      if (shortages.length > 0) {
        const reason = unknown.length > 0 ? reasons.unknownSku(unknown) : reasons.outOfStock(shortages);
        await store.putReservation({ orderId, status: 'rejected', items });
        await emit(StockUnavailable, { orderId, reason, shortages });
        log.info('stock unavailable', { orderId, shortages });
        return;
      }
      for (const item of items) await store.reserve(item.sku, item.quantity);
      await store.putReservation({ orderId, status: 'reserved', items });
      await emit(StockReserved, { orderId, items });
      log.info('stock reserved', { orderId });
    });
  });

  // The saga settles each order once; remembering how lets a cancellation of a confirmed order be refused.
  recordConfirmations(router, storage, log);

  router.on(OrderCancelled, async (event, context) => {
    if (!fromOrderService(event, log, context)) return;
    let refusedBy: OrderOutcome | undefined;
    await storage.handle(context.group, event, async ({ store, emit }) => {
      const { orderId } = event.data;
      const standing = await store.settle(orderId, 'cancelled');
      if (standing !== 'cancelled') {
        refusedBy = standing;
        return;
      }
      const reservation = await store.reservation(orderId);
      if (reservation === undefined) {
        await store.putReservation({ orderId, status: 'cancelled', items: [] });
        return;
      }
      if (reservation.status !== 'reserved') return;
      for (const item of reservation.items) await store.reserve(item.sku, -item.quantity);
      await store.putReservation({ ...reservation, status: 'released' });
      await emit(StockReleased, { orderId, items: [...reservation.items] });
      log.info('stock released', { orderId });
    });
    if (refusedBy !== undefined) refuseSettled(event, refusedBy, log, context);
  });

  return { ...plumbing, store: storage.store };
}

/** A running inventory service (see {@link inventoryService}). */
export type InventoryService = Awaited<ReturnType<typeof inventoryService>>;
