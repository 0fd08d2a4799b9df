import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateData } from '@herald/core';
import { OrderPlaced } from '../src/contracts/index.ts';

describe('contracts', () => {
  it("OrderPlaced takes Herald's shape as it is", async () => {
    const data = {
      orderId: 'o-1',
      userId: 'ada',
      items: [{ sku: 'KB-101', quantity: 2, unitPriceCents: 8900 }],
      amountCents: 17_800,
    };
    assert.deepEqual(await validateData(OrderPlaced, data), data);
  });

  it("OrderPlaced takes the seed's plain shape and normalises it: cents, no items", async () => {
    for (const [amount, cents] of [
      [100, 10_000],
      [99.5, 9950],
      [0.07, 7],
      ['12.30', 1230],
      [0, 0],
    ] as const) {
      assert.deepEqual(
        await validateData(OrderPlaced, { orderId: '123', userId: '456', amount }),
        { orderId: '123', userId: '456', items: [], amountCents: cents },
        String(amount),
      );
    }
  });

  it('OrderPlaced refuses amounts that are not money, and data of neither shape', async () => {
    for (const data of [
      { orderId: '123', userId: '456', amount: 1.234 },
      { orderId: '123', userId: '456', amount: -1 },
      { orderId: '123', userId: '456', amount: 'lots' },
      { orderId: '123', userId: '456', amount: Number.NaN },
      { orderId: '123', amount: 100 },
      { orderId: '123', userId: '456', items: [], amountCents: 100 },
    ]) {
      await assert.rejects(
        validateData(OrderPlaced, data),
        { code: 'HERALD_VALIDATION' },
        JSON.stringify(data),
      );
    }
  });
});
