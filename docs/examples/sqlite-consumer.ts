// Two processes, one embedded log: this one consumes the orders that sqlite-publisher.ts publishes from another
// process into the same SQLite file. Usage: consumer DB_FILE COUNT. Prints "ready" once subscribed, then the
// order ids it received, and exits when it has COUNT of them.
import { createRouter } from '@herald/core';
import { sqlite } from '@herald/sqlite';
import { OrderPlaced } from './quickstart.ts';

const [path = '.data/herald.db', count = '3'] = process.argv.slice(2);
const transport = sqlite({ path });
const received: string[] = [];
let allReceived = (): void => undefined;
const done = new Promise<void>((resolve) => (allReceived = resolve));

const billing = createRouter({ transport, group: 'billing', source: '/shop/billing' });
billing.on(OrderPlaced, (event) => {
  received.push(event.data.orderId);
  if (received.length === Number(count)) allReceived();
});
await billing.start();
console.log('ready');

await done;
await billing.close();
await transport.close();
console.log(`received ${received.sort().join(' ')}`);
