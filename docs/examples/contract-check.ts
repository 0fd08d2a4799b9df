import { defineEvent } from '@herald/core';
import { assertContractsCompatible } from '@herald/core/testing';
import { z } from 'zod';

/** What the shipping service publishes when an order leaves the warehouse. */
export const OrderShipped = defineEvent({
  type: 'OrderShipped',
  topic: 'shipments',
  key: (data) => data.orderId,
  schema: z.object({
    orderId: z.string(),
    carrier: z.enum(['dhl', 'ups']),
    trackingCode: z.string().optional(),
  }),
});

/**
 * The service's test calls this: it throws, naming each breaking field, when the contracts break the
 * committed snapshot, and (upToDate) when a compatible change is not recorded in it yet.
 */
export function checkContracts(snapshotFile: string): void {
  assertContractsCompatible([OrderShipped], snapshotFile, {
    upToDate: true,
    snapshotCommand: 'npm run contracts:snapshot',
  });
}
