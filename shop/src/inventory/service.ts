import type { Transport } from '@herald/core';
import type { SqliteDatabase } from '@herald/sqlite';
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
import { eventPlumbing, type EventPlumbingOptions } from '../runtime/event-plumbing.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import { inventoryStore } from './store.ts';

/** Options of {@link inventoryService}. */
export interface InventoryServiceOptions {
  readonly db: SqliteDatabase;
  readonly transport: Transport;
  readonly log?: Logger;
  readonly relay?: EventPlumbingOptions['relay'];
  readonly router?: EventPlumbingOptions['router'];
}

/** Sums quantities per SKU, so an order listing a SKU twice is checked against the stock once. */
function bySku(items: readonly StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity);
  return [...totals].map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * The inventory service: a catalogue seeded with finite stock. Reserves all of an order's items or none,
 * releases a reservation when the order is cancelled, and never lets stock go below zero (checked in code and by
 * the table's constraints). Each change is one transaction with its inbox record and its event.
 */
export function inventoryService(options: InventoryServiceOptions) {
  const { db, transport } = options;
  const log = options.log ?? silentLogger;
  const store = inventoryStore(db);
  const plumbing = eventPlumbing({
    db,
    transport,
    log,
    ...SERVICES.inventory,
    relay: options.relay,
    router: options.router,
  });
  const { uow, router } = plumbing;

  router.on(
    OrderPlaced,
    uow.handler((event, { emit }) => {
      const { orderId } = event.data;
      if (store.reservation(orderId) !== undefined) return;
      const items = bySku(event.data.items);
      const unknown = items.filter((item) => store.level(item.sku) === undefined).map((item) => item.sku);
      const shortages = items
        .map((item) => ({
          sku: item.sku,
          requested: item.quantity,
          available: store.level(item.sku)?.available ?? 0,
        }))
        .filter((s) => s.requested > s.available);
      if (shortages.length > 0) {
        const reason = unknown.length > 0 ? reasons.unknownSku(unknown) : reasons.outOfStock(shortages);
        store.putReservation({ orderId, status: 'rejected', items });
        emit(StockUnavailable, { orderId, reason, shortages });
        log.info('stock unavailable', { orderId, shortages });
        return;
      }
      for (const item of items) store.reserve(item.sku, item.quantity);
      store.putReservation({ orderId, status: 'reserved', items });
      emit(StockReserved, { orderId, items });
      log.info('stock reserved', { orderId });
    }),
  );

  router.on(
    OrderCancelled,
    uow.handler((event, { emit }) => {
      const { orderId } = event.data;
      const reservation = store.reservation(orderId);
      if (reservation === undefined) {
        store.putReservation({ orderId, status: 'cancelled', items: [] });
        return;
      }
      if (reservation.status !== 'reserved') return;
      for (const item of reservation.items) store.reserve(item.sku, -item.quantity);
      store.putReservation({ ...reservation, status: 'released' });
      emit(StockReleased, { orderId, items: [...reservation.items] });
      log.info('stock released', { orderId });
    }),
  );

  return { ...plumbing, store };
}

/** A running inventory service (see {@link inventoryService}). */
export type InventoryService = ReturnType<typeof inventoryService>;
