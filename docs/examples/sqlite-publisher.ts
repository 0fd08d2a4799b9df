// Two processes, one embedded log: this one publishes COUNT orders into the SQLite file that sqlite-consumer.ts
// reads from another process. Usage: publisher DB_FILE COUNT. Each publish resolves once the event is durably
// in the log (see docs/embedded-log.md), so the process can exit right after.
import { createPublisher } from '@herald/core';
import { sqlite } from '@herald/sqlite';
import { OrderPlaced } from './quickstart.ts';

const [path = '.data/herald.db', count = '3'] = process.argv.slice(2);
const transport = sqlite({ path });
const publisher = createPublisher({ transport, source: '/shop/order' });
for (let i = 1; i <= Number(count); i++) {
  await publisher.publish(OrderPlaced, { orderId: `o-${i}`, amountCents: 1000 * i });
}
await transport.close();
console.log(`published ${count}`);
