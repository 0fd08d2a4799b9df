import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { memory, type Transport } from '@herald/core';
import { LiveEvents } from '../src/live-events.ts';
import { TopologySampler } from '../src/topology.ts';

const servers: Server[] = [];
const transports: Transport[] = [];
after(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  for (const transport of transports) await transport.close();
});

/** A service that serves `/health/ready` and, from `metrics()`, `/metrics` in the Prometheus text format. */
async function fakeService(metrics: () => string, ready = true): Promise<string> {
  const server = createServer((request, response) => {
    if (request.url === '/health/ready') response.writeHead(ready ? 200 : 503).end('{}');
    else if (request.url === '/metrics')
      response.writeHead(200, { 'content-type': 'text/plain' }).end(metrics());
    else response.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function transport(): Transport {
  const t = memory();
  transports.push(t);
  return t;
}

describe('TopologySampler', () => {
  it('sums lag over partitions and computes rates from the difference of two samples', async () => {
    let processed = 10;
    const url = await fakeService(
      () => `herald_events_processed_total{topic="orders",type="A",group="payment",service="p"} ${processed}
herald_events_processed_total{topic="orders",type="B",group="payment",service="p"} 5
herald_events_dead_lettered_total{topic="orders",type="A",group="payment",reason="max-attempts"} 2
herald_consumer_lag{group="payment",topic="orders",partition="0"} 3
herald_consumer_lag{group="payment",topic="orders",partition="1"} 4
`,
    );
    const down = await fakeService(() => '', false);
    const t = transport();
    const live = new LiveEvents(t, { group: 'console', topics: [], bufferSize: 10 });
    const sampler = new TopologySampler(
      t,
      [
        { name: 'payment', url },
        { name: 'stock', url: down },
        { name: 'gone', url: 'http://127.0.0.1:1' },
      ],
      live,
    );
    const first = await sampler.sample();
    assert.deepEqual(
      first.services.map((s) => [s.name, s.state, s.metrics]),
      [
        ['payment', 'ready', true],
        ['stock', 'unready', false],
        ['gone', 'unreachable', false],
      ],
    );
    assert.equal(first.groups.length, 1);
    const [group] = first.groups;
    assert.equal(group!.processedTotal, 15);
    assert.equal(group!.deadLetteredTotal, 2);
    assert.equal(group!.lag, 7);
    assert.equal(group!.processedPerSecond, undefined, 'no rate from one sample');
    processed = 30;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await sampler.sample();
    const rate = second.groups[0]!.processedPerSecond!;
    assert.ok(rate > 0 && rate <= 20 / 0.2, `rate ${rate}`);
    assert.ok(second.limits.some((line) => line.includes('No topics are watched')));
  });

  it('says plainly what a transport cannot report', async () => {
    const t = transport();
    const limited: Transport = {
      name: 'limited',
      capabilities: { ...t.capabilities, deadLetterQueue: false },
      publish: (records) => t.publish(records),
      subscribe: (options, onDelivery) => t.subscribe(options, onDelivery),
      close: () => Promise.resolve(),
    };
    const live = new LiveEvents(limited, { group: 'console', topics: ['orders'], bufferSize: 10 });
    const topology = await new TopologySampler(limited, [], live).sample();
    assert.deepEqual(topology.limits.slice(0, 3), [
      'The limited transport cannot report consumer lag: no lag is shown for any group.',
      'The limited transport keeps no dead-letter queue: there is nothing to replay.',
      "No services are configured (HERALD_CONSOLE_SERVICES): consumer groups, their rates and lag come from the services' /metrics and are not shown.",
    ]);
    assert.deepEqual(topology.groups, []);
  });
});
