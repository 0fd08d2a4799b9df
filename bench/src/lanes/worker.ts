// Entry point of a lanes trial: `node --import tsx lanes/worker.ts '<LanesArgs JSON>'`. Stores `count` events on
// the transport, then (on `start`) subscribes and handles them all, counting order violations per key.
import { memory, type Transport } from '@herald/core';
import { sqlite } from '@herald/sqlite';
import { nowUs, sleep } from '../clock.ts';
import { OrderCheck } from './order-check.ts';
import type { LanesArgs, LanesResult } from './protocol.ts';
import { LANES_TOPIC, laneRecord, workMs, type LaneEvent } from './workload.ts';
import { runWorker, sendToParent } from '../worker-process.ts';

const PUBLISH_BATCH = 500;
const decoder = new TextDecoder();

const send = sendToParent;

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as LanesArgs;
  const transport: Transport =
    args.transport === 'sqlite' ? sqlite({ path: args.path, durability: 'D1' }) : memory();
  for (let from = 0; from < args.count; from += PUBLISH_BATCH) {
    const n = Math.min(PUBLISH_BATCH, args.count - from);
    await transport.publish(Array.from({ length: n }, (_, j) => laneRecord(from + j, args.keys)));
  }
  const started = new Promise<void>((resolve) => process.once('message', () => resolve()));
  await send({ type: 'ready' });
  await started;
  const cpu = process.cpuUsage();
  const check = new OrderCheck();
  let firstUs = 0;
  let lastUs = 0;
  let handled = 0;
  let allHandled: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allHandled = resolve));
  const subscription = transport.subscribe(
    { group: 'lanes', topics: [LANES_TOPIC], concurrency: args.concurrency },
    async (delivery) => {
      if (firstUs === 0) firstUs = nowUs();
      const event = JSON.parse(decoder.decode(delivery.record.data)) as LaneEvent;
      const verdict = check.accept(event.key, event.seq);
      await sleep(workMs(event.i));
      await delivery.ack();
      if (verdict === 'duplicate') return;
      if (++handled === args.count) {
        lastUs = nowUs();
        allHandled();
      }
    },
  );
  await done;
  const usage = process.cpuUsage(cpu);
  await subscription.close();
  await transport.close();
  const result: LanesResult = {
    firstUs,
    lastUs,
    distinct: check.distinct,
    duplicates: check.duplicates,
    violations: check.violations,
    cpuUs: usage.user + usage.system,
    maxRssKb: process.resourceUsage().maxRSS,
  };
  await send({ type: 'result', result });
}

runWorker(main);
