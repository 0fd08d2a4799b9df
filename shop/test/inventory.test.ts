import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { memory, type Transport } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { CATALOGUE, OrderCancelled, OrderPlaced, SERVICES } from '../src/contracts/index.ts';
import { initialStockFrom } from '../src/runtime/config.ts';
import { makeInventory, observe, publisherAs, testDatabase } from './in-process.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function setup() {
  const transport: Transport = memory();
  const inventory = await makeInventory(transport);
  const watched = observe(transport, ['inventory']);
  await inventory.start();
  await watched.subscription.ready;
  closers.push(async () => {
    await watched.subscription.close();
    await inventory.close();
    await transport.close();
  });
  const orders = publisherAs(transport, SERVICES.order.source);
  const place = (orderId: string, items: { sku: string; quantity: number }[]) =>
    orders.publish(OrderPlaced, {
      orderId,
      userId: 'ada',
      items: items.map((i) => ({ ...i, unitPriceCents: 100 })),
      amountCents: 100,
    });
  const cancel = (orderId: string) =>
    orders.publish(OrderCancelled, { orderId, userId: 'ada', amountCents: 100, reason: 'test' });
  const types = (orderId: string) =>
    watched.events.filter((e) => (e.data as { orderId: string }).orderId === orderId).map((e) => e.type);
  const consistent = async () => {
    for (const level of await inventory.store.levels()) {
      assert.ok(level.available >= 0 && level.reserved >= 0, level.sku);
      assert.equal(level.available + level.reserved, level.initial, level.sku);
    }
  };
  return { inventory, orders, place, cancel, types, consistent };
}

describe('inventory service', () => {
  it('is seeded from the shared catalogue', async () => {
    const t = await setup();
    assert.deepEqual(
      (await t.inventory.store.levels()).map((l) => [l.sku, l.available]),
      [...CATALOGUE].sort((a, b) => a.sku.localeCompare(b.sku)).map((p) => [p.sku, p.initialStock]),
    );
  });

  it('is seeded with INVENTORY_INITIAL_STOCK units of every SKU when it is set, and refuses a bad value', async () => {
    const transport = memory();
    const inventory = await makeInventory(transport, testDatabase(), { initialStock: 1_000_000 });
    closers.push(async () => {
      await inventory.close();
      await transport.close();
    });
    const levels = await inventory.store.levels();
    assert.equal(levels.length, CATALOGUE.length);
    for (const level of levels) assert.deepEqual([level.available, level.initial], [1_000_000, 1_000_000]);
    assert.equal(initialStockFrom({}), undefined);
    assert.equal(initialStockFrom({ INVENTORY_INITIAL_STOCK: '250000' }), 250_000);
    for (const bad of ['0', '-5', '1.5', '1e6', 'lots', '1000000001'])
      assert.throws(() => initialStockFrom({ INVENTORY_INITIAL_STOCK: bad }), /INVENTORY_INITIAL_STOCK/, bad);
  });

  it('reserves all items or none', async () => {
    const t = await setup();
    await t.place('all', [
      { sku: 'KB-101', quantity: 2 },
      { sku: 'MS-202', quantity: 3 },
    ]);
    await t.place('none', [
      { sku: 'KB-101', quantity: 2 },
      { sku: 'LE-707', quantity: 6 },
    ]);
    await waitFor(() => t.types('all').length === 1 && t.types('none').length === 1);
    assert.deepEqual(t.types('all'), ['StockReserved']);
    assert.deepEqual(t.types('none'), ['StockUnavailable']);
    assert.equal((await t.inventory.store.level('KB-101'))!.reserved, 2, 'the failed order reserved nothing');
    assert.equal((await t.inventory.store.level('LE-707'))!.reserved, 0);
    await t.consistent();
  });

  it('checks a SKU listed twice against its total, and names unknown SKUs', async () => {
    const t = await setup();
    await t.place('twice', [
      { sku: 'LE-707', quantity: 3 },
      { sku: 'LE-707', quantity: 3 },
    ]);
    await t.place('unknown', [{ sku: 'ZZ-999', quantity: 1 }]);
    await waitFor(() => t.types('twice').length === 1 && t.types('unknown').length === 1);
    assert.deepEqual(t.types('twice'), ['StockUnavailable']);
    assert.equal((await t.inventory.store.reservation('unknown'))!.status, 'rejected');
    await t.consistent();
  });

  it('never oversells contended stock and never goes negative', async () => {
    const t = await setup();
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => t.place(id, [{ sku: 'LE-707', quantity: 2 }])));
    await waitFor(() => ['a', 'b', 'c', 'd'].every((id) => t.types(id).length === 1));
    const reserved = ['a', 'b', 'c', 'd'].filter((id) => t.types(id)[0] === 'StockReserved');
    assert.equal(reserved.length, 2);
    assert.equal((await t.inventory.store.level('LE-707'))!.available, 1);
    await t.consistent();
  });

  it('releases a reservation once on cancellation, and never reserves an order cancelled first', async () => {
    const t = await setup();
    await t.place('r', [{ sku: 'MN-303', quantity: 4 }]);
    await waitFor(() => t.types('r').length === 1);
    const cancelled = await t.cancel('r');
    await t.orders.publish(OrderCancelled, cancelled.data, { id: cancelled.id });
    await t.cancel('r');
    await t.cancel('early');
    await waitFor(async () => (await t.inventory.store.reservation('early'))?.status === 'cancelled');
    await t.place('early', [{ sku: 'MN-303', quantity: 1 }]);
    await waitFor(() => t.types('r').length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // The release committed with the first cancellation; the relay publishes it on its own schedule.
    await waitFor(() => t.types('r').length >= 2);
    assert.deepEqual(t.types('r'), ['StockReserved', 'StockReleased']);
    assert.deepEqual(t.types('early'), []);
    assert.equal((await t.inventory.store.level('MN-303'))!.available, 40);
    await t.consistent();
  });
});
