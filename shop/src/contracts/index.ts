export * from './catalogue.ts';
export * from './money.ts';
export * from './reasons.ts';
export * from './orders.ts';
export * from './payments.ts';
export * from './inventory.ts';
export * from './notifications.ts';

/** CloudEvents `source` and consumer group of each service. */
export const SERVICES = {
  order: { group: 'order-service', source: '/shop/order-service' },
  payment: { group: 'payment-service', source: '/shop/payment-service' },
  inventory: { group: 'inventory-service', source: '/shop/inventory-service' },
  notification: { group: 'notification-service', source: '/shop/notification-service' },
} as const;
