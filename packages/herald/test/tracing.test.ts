import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TraceFlags } from '@opentelemetry/api';
import {
  createPublisher,
  createRouter,
  defineEvent,
  formatTraceparent,
  memory,
  messagingMetrics,
  parseTraceparent,
  registerMessagingMetrics,
  sendRecords,
  encodeEvent,
  createEvent,
  tracingActive,
  type CloudEvent,
  type DeliveryLabels,
  type MessagingMetrics,
} from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const fast = {
  retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
  redelivery: { maxDeliveries: 2, backoff: { initialMs: 5, maxMs: 5 } },
};

/** A metrics backend that records every call, for assertions. */
function recordingMetrics(): MessagingMetrics & { calls: string[] } {
  const calls: string[] = [];
  const at = (l: DeliveryLabels): string => `${l.type}@${l.group}`;
  return {
    calls,
    published: (topic, type, count) => calls.push(`published ${type} ${count}`),
    processed: (l) => calls.push(`processed ${at(l)}`),
    failed: (l, errorType) => calls.push(`failed ${at(l)} ${errorType}`),
    retried: (l, kind) => calls.push(`retried ${at(l)} ${kind}`),
    deadLettered: (l, reason) => calls.push(`dead-lettered ${at(l)} ${reason}`),
    skipped: (l, reason) => calls.push(`skipped ${at(l)} ${reason}`),
    handlerDuration: (l, seconds, errorType) => {
      assert.ok(seconds >= 0);
      calls.push(`handled ${at(l)} ${errorType ?? 'ok'}`);
    },
  };
}

describe('tracing without an OpenTelemetry SDK', () => {
  it('creates no spans, adds nothing to the pipeline, and passes the trace context through', async () => {
    assert.equal(tracingActive(), false);
    const transport = memory();
    const First = defineEvent({ type: 'First', topic: uniqueName('t'), schema: testSchema });
    const Second = defineEvent({ type: 'Second', topic: uniqueName('t'), schema: testSchema });
    const seen: CloudEvent[] = [];
    const first = createRouter({ transport, group: uniqueName('g'), source: '/a' }).on(
      First,
      async (event, ctx) => {
        seen.push(event);
        await ctx.publish(Second, { key: 'k', seq: 2 });
      },
    );
    const second = createRouter({ transport, group: uniqueName('g'), source: '/b' }).on(Second, (event) => {
      seen.push(event);
    });
    assert.deepEqual(first.describe().pipeline, [
      'dead-letter',
      'redelivery(maxDeliveries=5)',
      'retry(attempts=3)',
      'validation',
    ]);
    await first.start();
    await second.start();
    const published = await createPublisher({ transport, source: '/test' }).publish(
      First,
      { key: 'k', seq: 1 },
      { traceparent: TRACEPARENT, tracestate: 'vendor=1' },
    );
    await waitFor(() => seen.length === 2);
    assert.equal(published.traceparent, TRACEPARENT);
    // The handler's publish inherits the handled event's context unchanged.
    assert.equal(seen[1]!.traceparent, TRACEPARENT);
    assert.equal(seen[1]!.tracestate, 'vendor=1');
    const plain = await createEvent('/test', First, { key: 'k', seq: 3 });
    assert.equal(plain.traceparent, undefined);
    await first.close();
    await second.close();
    await transport.close();
  });

  it('reads and writes W3C traceparent', () => {
    const context = parseTraceparent(TRACEPARENT, 'a=1,b=2');
    assert.ok(context);
    assert.equal(context.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(context.spanId, '00f067aa0ba902b7');
    assert.equal(context.traceFlags, TraceFlags.SAMPLED);
    assert.equal(context.isRemote, true);
    assert.deepEqual(formatTraceparent(context), { traceparent: TRACEPARENT, tracestate: 'a=1,b=2' });
    assert.equal(parseTraceparent(undefined), undefined);
    assert.equal(parseTraceparent('garbage'), undefined);
    assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`), undefined);
    assert.equal(parseTraceparent(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`), undefined);
    assert.equal(parseTraceparent(`ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`), undefined);
    assert.equal(parseTraceparent(`${TRACEPARENT}-extra`), undefined);
    assert.ok(parseTraceparent(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future`));
  });
});

describe('messaging metrics hook', () => {
  it('counts publishes, processing, retries, redeliveries and dead letters', async () => {
    const recorder = recordingMetrics();
    const unregister = registerMessagingMetrics(recorder);
    try {
      assert.equal(messagingMetrics(), recorder);
      const transport = memory();
      const Ok = defineEvent({ type: 'Ok', topic: uniqueName('t'), schema: testSchema });
      const Flaky = defineEvent({ type: 'Flaky', topic: uniqueName('t'), schema: testSchema });
      const Broken = defineEvent({ type: 'Broken', topic: uniqueName('t'), schema: testSchema });
      const group = 'g1';
      let flakyCalls = 0;
      const router = createRouter({ transport, group, source: '/test', ...fast })
        .on(Ok, () => undefined)
        .on(Flaky, () => {
          if (++flakyCalls === 1) throw new Error('flaky');
        })
        .on(Broken, () => {
          throw new TypeError('broken');
        });
      // Telemetry is on by default because a metrics backend is registered.
      assert.deepEqual(router.describe().pipeline, [
        'tracing',
        'metrics',
        'dead-letter',
        'redelivery(maxDeliveries=2)',
        'retry(attempts=2)',
        'observe-handler',
        'validation',
      ]);
      await router.start();
      const publisher = createPublisher({ transport, source: '/test' });
      await publisher.publish(Ok, { key: 'a', seq: 1 });
      await publisher.publish(Flaky, { key: 'b', seq: 1 });
      await publisher.publish(Broken, { key: 'c', seq: 1 });
      await waitFor(() => recorder.calls.includes('dead-lettered Broken@g1 max-attempts'));
      await router.close();
      const count = (call: string): number => recorder.calls.filter((c) => c === call).length;
      const expected: [call: string, times: number][] = [
        ['published Ok 1', 1],
        ['published Broken 1', 1],
        ['processed Ok@g1', 1],
        ['handled Ok@g1 ok', 1],
        // Flaky: one failed call, an immediate retry, then success.
        ['handled Flaky@g1 Error', 1],
        ['retried Flaky@g1 immediate', 1],
        ['processed Flaky@g1', 1],
        // Broken: two deliveries of two calls each; the first is redelivered, the second dead-lettered.
        ['handled Broken@g1 TypeError', 4],
        ['retried Broken@g1 immediate', 2],
        ['retried Broken@g1 redelivery', 1],
        ['failed Broken@g1 TypeError', 2],
        ['dead-lettered Broken@g1 max-attempts', 1],
        ['processed Broken@g1', 0],
      ];
      for (const [call, times] of expected) assert.equal(count(call), times, call);

      // A relay's batch is counted per topic and type.
      const records = [
        encodeEvent(Ok.topic, await createEvent('/test', Ok, { key: 'a', seq: 2 })),
        encodeEvent(Ok.topic, await createEvent('/test', Ok, { key: 'a', seq: 3 })),
      ];
      await sendRecords(transport, records);
      assert.equal(count('published Ok 2'), 1);
      await transport.close();
    } finally {
      unregister();
    }
    assert.equal(messagingMetrics(), undefined);
  });

  it('never fails a delivery because the metrics backend throws', async () => {
    const throwing = recordingMetrics();
    throwing.processed = () => {
      throw new Error('metrics backend down');
    };
    const unregister = registerMessagingMetrics(throwing);
    try {
      const transport = memory();
      const Ok = defineEvent({ type: 'Ok', topic: uniqueName('t'), schema: testSchema });
      let handled = 0;
      const group = uniqueName('g');
      const router = createRouter({ transport, group, source: '/test' }).on(Ok, () => {
        handled++;
      });
      await router.start();
      await createPublisher({ transport, source: '/test' }).publish(Ok, { key: 'a', seq: 1 });
      await waitFor(() => handled === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(handled, 1);
      assert.deepEqual(await transport.deadLetters!.list({ group }), []);
      await router.close();
      await transport.close();
    } finally {
      unregister();
    }
  });
});

describe('consumer lag', () => {
  it('is the end offset minus the committed offset of the partitions a log transport consumes', async () => {
    const transport = memory({ partitions: 2 });
    const Ping = defineEvent({ type: 'Ping', topic: uniqueName('t'), schema: testSchema, key: (d) => d.key });
    const publisher = createPublisher({ transport, source: '/test' });
    for (let seq = 0; seq < 6; seq++) await publisher.publish(Ping, { key: `k${seq % 3}`, seq });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    const group = uniqueName('g');
    const router = createRouter({ transport, group, source: '/test', concurrency: 1, telemetry: false }).on(
      Ping,
      async () => {
        await gate;
        handled++;
      },
    );
    assert.deepEqual(await transport.consumerLag!(), []);
    await router.start();
    await waitFor(async () => (await transport.consumerLag!()).length === 2);
    const before = await transport.consumerLag!();
    assert.equal(
      before.reduce((sum, p) => sum + p.lag, 0),
      6,
    );
    assert.ok(before.every((p) => p.group === group && p.topic === Ping.topic));
    release();
    await waitFor(() => handled === 6);
    await waitFor(async () => (await transport.consumerLag!()).every((p) => p.lag === 0));
    await router.close();
    await transport.close();
  });
});
