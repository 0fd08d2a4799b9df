// Child process of the contract suite's crash test: joins a group, and on its first delivery kills itself with
// SIGKILL before settling it, like a consumer process that dies mid-handler.
import { pathToFileURL } from 'node:url';
import type { Transport } from '../transport.ts';

const [modulePath, topic, group] = process.argv.slice(2) as [string, string, string];
const mod = (await import(pathToFileURL(modulePath).href)) as {
  createTransport: () => Transport | Promise<Transport>;
};
const transport = await mod.createTransport();
const subscription = transport.subscribe({ group, topics: [topic], concurrency: 1 }, (delivery) => {
  process.stdout.write(`DELIVERED ${delivery.record.attributes.id}\n`, () =>
    process.kill(process.pid, 'SIGKILL'),
  );
  return new Promise<void>(() => undefined);
});
await subscription.ready;
process.stdout.write('READY\n');
