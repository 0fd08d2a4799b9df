import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import {
  createPublisher,
  createRouter,
  defineEvent,
  Lease,
  type Delivery,
  type Transport,
  type TransportRecord,
} from '@herald/core';
import { testSchema, waitFor } from '@herald/core/testing';
import { HandlerSignals } from '../src/handler-signals.ts';

/** A transport that keeps what is published and delivers it when the test says, under the lease it gives. */
function handTransport() {
  const records: TransportRecord[] = [];
  const settled: string[] = [];
  let onDelivery: ((delivery: Delivery) => Promise<void>) | undefined;
  const running = new Set<Promise<void>>();
  const transport: Transport = {
    name: 'hand',
    capabilities: {
      persistent: false,
      crossProcess: false,
      orderedPerKey: true,
      delayedDelivery: true,
      orderedRedelivery: false,
      deadLetterQueue: true,
      replay: false,
      longHandlers: true,
      scheduledDelivery: false,
    },
    publish(list) {
      records.push(...list);
      return Promise.resolve(list.map((r, i) => ({ topic: r.topic, partition: 0, offset: String(i) })));
    },
    subscribe(_options, handler) {
      onDelivery = handler;
      // As a real subscription: close waits up to its timeout for the deliveries in flight.
      const close = async ({ timeoutMs = 0 } = {}): Promise<void> => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(running),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
      };
      return { ready: Promise.resolve(), close };
    },
    close: () => Promise.resolve(),
  };
  const deliver = (index: number, lease: Lease): Promise<void> => {
    const handling = onDelivery!({
      record: records[index]!,
      group: 'g',
      partition: 0,
      offset: String(index),
      attempt: 1,
      signal: lease.signal,
      ack: () => Promise.resolve(void settled.push(`ack ${index}`)),
      retryLater: () => Promise.resolve(void settled.push(`retry ${index}`)),
      deadLetter: () => Promise.resolve(void settled.push(`dead-letter ${index}`)),
    });
    running.add(handling);
    return handling.finally(() => running.delete(handling));
  };
  return { transport, records, settled, deliver };
}

const Pinged = defineEvent({ type: 'Pinged', topic: 'pings', schema: testSchema });
const fast = {
  retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 2 } },
  redelivery: { maxDeliveries: 2, backoff: { initialMs: 5, maxMs: 5 } },
};

/** Publishes a Pinged `{ key: 'k', seq }` on `transport` for each of `seqs`, in order. */
async function publishPings(transport: Transport, ...seqs: number[]): Promise<void> {
  const publisher = createPublisher({ transport, source: '/test' });
  for (const seq of seqs) await publisher.publish(Pinged, { key: 'k', seq });
}

describe('router: the handler signal', () => {
  it('aborts with HERALD_LEASE_LOST when the lease is lost, and does not settle that delivery', async () => {
    const hand = handTransport();
    let calls = 0;
    const router = createRouter({ transport: hand.transport, group: 'g', source: '/test', ...fast }).on(
      Pinged,
      async (_event, ctx) => {
        calls++;
        await new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
        );
      },
    );
    await router.start();
    await publishPings(hand.transport, 1);
    const lease = new Lease();
    const handled = hand.deliver(0, lease);
    await waitFor(() => calls === 1, 1000, 'the handler');
    lease.lose('pings/0 (test)');
    await handled;
    assert.equal((lease.signal.reason as { code: string }).code, 'HERALD_LEASE_LOST');
    // The handler threw the abort reason: no immediate retry (the signal is aborted), and neither the
    // redelivery nor the ack reached the transport.
    assert.equal(calls, 1);
    assert.deepEqual(hand.settled, []);
    assert.equal(getEventListeners(lease.signal, 'abort').length, 0, 'the lease link was undone');
    await router.close();
  });

  it('acks what kept its lease, and leaves no listener on the lease', async () => {
    const hand = handTransport();
    const seen: boolean[] = [];
    const router = createRouter({ transport: hand.transport, group: 'g', source: '/test', ...fast }).on(
      Pinged,
      (_event, ctx) => {
        seen.push(ctx.signal.aborted);
      },
    );
    await router.start();
    await publishPings(hand.transport, ...Array.from({ length: 20 }, (_, seq) => seq));
    const lease = new Lease();
    for (let i = 0; i < 20; i++) await hand.deliver(i, lease);
    assert.deepEqual(seen, Array<boolean>(20).fill(false));
    assert.equal(hand.settled.filter((s) => s.startsWith('ack')).length, 20);
    assert.equal(getEventListeners(lease.signal, 'abort').length, 0);
    await router.close();
  });

  it('still aborts at shutdown past the timeout, with the lease held', async () => {
    const hand = handTransport();
    let signal: AbortSignal | undefined;
    const router = createRouter({
      transport: hand.transport,
      group: 'g',
      source: '/test',
      shutdownTimeoutMs: 20,
      ...fast,
    }).on(Pinged, async (_event, ctx) => {
      signal = ctx.signal;
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    });
    await router.start();
    await publishPings(hand.transport, 1);
    const lease = new Lease();
    const handled = hand.deliver(0, lease);
    await waitFor(() => signal !== undefined, 1000, 'the handler');
    // The subscription waits 20 ms for the handler, then the router's timer aborts it.
    const closing = router.close();
    await handled;
    await closing;
    assert.equal((signal!.reason as { code: string }).code, 'HERALD_CLOSED');
    assert.equal(lease.lost, false);
  });
});

describe('HandlerSignals', () => {
  it('tells a signal still held of the shutdown after its lease link was released', () => {
    const shutdown = new AbortController();
    const signals = new HandlerSignals(shutdown.signal);
    const lease = new Lease();
    const followed = signals.follow(lease.signal);
    followed.release();
    lease.lose('t/0 (test)');
    assert.equal(followed.signal.aborted, false, 'released: the lease no longer reaches it');
    assert.equal(getEventListeners(lease.signal, 'abort').length, 0);
    shutdown.abort(new Error('shut down'));
    assert.equal((followed.signal.reason as Error).message, 'shut down');
  });

  it('follows the lease until released, and is the shutdown signal itself without a lease', () => {
    const shutdown = new AbortController();
    const signals = new HandlerSignals(shutdown.signal);
    assert.equal(signals.follow(undefined).signal, shutdown.signal);
    const lease = new Lease();
    const followed = signals.follow(lease.signal);
    lease.lose('t/0 (test)');
    assert.equal((followed.signal.reason as { code: string }).code, 'HERALD_LEASE_LOST');
    assert.equal(signals.follow(lease.signal).signal, lease.signal, 'a lost lease is handed out as it is');
  });
});
