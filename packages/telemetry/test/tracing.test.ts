import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  createEvent,
  createPublisher,
  createRouter,
  defineEvent,
  encodeEvent,
  memory,
  sendRecords,
  tracingActive,
  type CloudEvent,
  type Transport,
} from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';
import { httpTracingHooks, startServerSpan, type ReadableSpan } from '@herald/telemetry';
import { recordSpans } from './span-recording.ts';

const telemetry = recordSpans('tracing-test');
const { exporter } = telemetry;

const fast = {
  retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
  redelivery: { maxDeliveries: 2, backoff: { initialMs: 5, maxMs: 5 } },
};

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const named = (name: string): ReadableSpan[] => spans().filter((s) => s.name === name);
const one = (name: string): ReadableSpan => {
  const found = named(name);
  assert.equal(
    found.length,
    1,
    `one span "${name}" (got ${spans()
      .map((s) => s.name)
      .join(', ')})`,
  );
  return found[0]!;
};
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan): string => span.spanContext().spanId;

describe('tracing on the memory transport', () => {
  it('keeps one trace from a root span through two routers that publish onward', async () => {
    exporter.reset();
    const transport = memory();
    const Ordered = defineEvent({
      type: 'Ordered',
      topic: uniqueName('orders'),
      schema: testSchema,
      key: (d) => d.key,
    });
    const Paid = defineEvent({
      type: 'Paid',
      topic: uniqueName('payments'),
      schema: testSchema,
      key: (d) => d.key,
    });
    const Shipped = defineEvent({ type: 'Shipped', topic: uniqueName('shipments'), schema: testSchema });
    const handled: CloudEvent[] = [];
    const payment = createRouter({ transport, group: 'payment', source: '/payment' }).on(
      Ordered,
      async (event, ctx) => {
        handled.push(event);
        await ctx.publish(Paid, { key: event.data.key, seq: 2 });
      },
    );
    const shipping = createRouter({ transport, group: 'shipping', source: '/shipping' }).on(
      Paid,
      async (event, ctx) => {
        handled.push(event);
        await ctx.publish(Shipped, { key: event.data.key, seq: 3 });
      },
    );
    assert.deepEqual(payment.describe().pipeline.slice(0, 2), ['tracing', 'metrics']);
    await payment.start();
    await shipping.start();

    const publisher = createPublisher({ transport, source: '/order' });
    const tracer = trace.getTracer('test');
    const first = await tracer.startActiveSpan('POST /orders', async (root) => {
      try {
        return await publisher.publish(Ordered, { key: 'order-1', seq: 1 });
      } finally {
        root.end();
      }
    });
    await waitFor(
      () => named(`send ${Shipped.topic}`).length === 1 && named(`process ${Paid.topic}`).length === 1,
    );

    const root = one('POST /orders');
    const sendOrdered = one(`send ${Ordered.topic}`);
    const processOrdered = one(`process ${Ordered.topic}`);
    const sendPaid = one(`send ${Paid.topic}`);
    const processPaid = one(`process ${Paid.topic}`);
    const sendShipped = one(`send ${Shipped.topic}`);
    const chain = [root, sendOrdered, processOrdered, sendPaid, processPaid, sendShipped];

    // One trace, each span the child of the previous one.
    const traceId = root.spanContext().traceId;
    for (const span of chain) assert.equal(span.spanContext().traceId, traceId, span.name);
    for (let i = 1; i < chain.length; i++)
      assert.equal(parentOf(chain[i]!), idOf(chain[i - 1]!), chain[i]!.name);
    assert.equal(parentOf(root), undefined);
    assert.equal(named(`create ${Ordered.topic}`).length, 0, 'a direct publish has no create span');

    // Kinds.
    for (const span of [sendOrdered, sendPaid, sendShipped]) assert.equal(span.kind, SpanKind.PRODUCER);
    for (const span of [processOrdered, processPaid]) assert.equal(span.kind, SpanKind.CONSUMER);

    // The envelope carries the send span's context, and the process span links to it.
    assert.equal(first.traceparent, `00-${traceId}-${idOf(sendOrdered)}-01`);
    assert.equal(handled[0]!.traceparent, first.traceparent);
    assert.deepEqual(
      processOrdered.links.map((l) => l.context.spanId),
      [idOf(sendOrdered)],
    );

    // Messaging attributes.
    assert.deepEqual(sendOrdered.attributes, {
      'messaging.system.name': 'herald',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': Ordered.topic,
      'messaging.message.id': first.id,
      'messaging.message.conversation_id': first.id,
      'cloudevents.event_type': 'Ordered',
      'messaging.destination.partition.id': sendOrdered.attributes['messaging.destination.partition.id'],
    });
    assert.match(String(sendOrdered.attributes['messaging.destination.partition.id']), /^\d+$/);
    assert.equal(processOrdered.attributes['messaging.system.name'], 'herald');
    assert.equal(processOrdered.attributes['messaging.operation.type'], 'process');
    assert.equal(processOrdered.attributes['messaging.operation.name'], 'process');
    assert.equal(processOrdered.attributes['messaging.destination.name'], Ordered.topic);
    assert.equal(processOrdered.attributes['messaging.consumer.group.name'], 'payment');
    assert.equal(processOrdered.attributes['messaging.message.id'], first.id);
    assert.equal(processOrdered.attributes['messaging.message.conversation_id'], first.id);
    assert.equal(processOrdered.attributes['cloudevents.event_type'], 'Ordered');
    assert.equal(processOrdered.attributes['herald.delivery.attempt'], 1);
    assert.equal(
      processOrdered.attributes['messaging.destination.partition.id'],
      sendOrdered.attributes['messaging.destination.partition.id'],
    );
    assert.equal(processPaid.attributes['messaging.consumer.group.name'], 'shipping');
    assert.equal(processPaid.attributes['messaging.message.id'], handled[1]!.id);
    // The whole flow shares the first event's correlation id.
    assert.equal(processPaid.attributes['messaging.message.conversation_id'], first.id);
    for (const span of chain.slice(1)) assert.equal(span.status.code, SpanStatusCode.UNSET, span.name);

    await payment.close();
    await shipping.close();
    await transport.close();
  });

  it('records immediate retries, redelivery and dead-lettering as span events, and failures as errors', async () => {
    exporter.reset();
    const transport = memory();
    const Flaky = defineEvent({ type: 'Flaky', topic: uniqueName('flaky'), schema: testSchema });
    const Broken = defineEvent({ type: 'Broken', topic: uniqueName('broken'), schema: testSchema });
    let flakyCalls = 0;
    const group = 'worker';
    const router = createRouter({ transport, group, source: '/worker', ...fast })
      .on(Flaky, () => {
        if (++flakyCalls === 1) throw new Error('first call fails');
      })
      .on(Broken, () => {
        throw new TypeError('always fails');
      });
    await router.start();
    const publisher = createPublisher({ transport, source: '/test' });
    await publisher.publish(Flaky, { key: 'a', seq: 1 });
    const broken = await publisher.publish(Broken, { key: 'b', seq: 1 });
    await waitFor(async () => (await transport.deadLetters!.list({ group })).length === 1);
    await waitFor(() => named(`process ${Broken.topic}`).length === 2);

    // Flaky: one process span, a retry event with the error, status unset (the retry handled it).
    const flaky = one(`process ${Flaky.topic}`);
    assert.deepEqual(
      flaky.events.map((e) => e.name),
      ['herald.retry'],
    );
    assert.equal(flaky.events[0]!.attributes!['herald.try'], 2);
    assert.equal(flaky.events[0]!.attributes!['exception.message'], 'first call fails');
    assert.equal(flaky.events[0]!.attributes!['error.type'], 'Error');
    assert.equal(flaky.status.code, SpanStatusCode.UNSET);

    // Broken: two deliveries, each a child of the send span.
    const send = one(`send ${Broken.topic}`);
    const [firstDelivery, secondDelivery] = named(`process ${Broken.topic}`).sort(
      (a, b) =>
        Number(a.attributes['herald.delivery.attempt']) - Number(b.attributes['herald.delivery.attempt']),
    );
    for (const span of [firstDelivery!, secondDelivery!]) {
      assert.equal(parentOf(span), idOf(send));
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.status.message, 'always fails');
      assert.equal(span.attributes['error.type'], 'TypeError');
      assert.equal(span.attributes['messaging.message.id'], broken.id);
    }
    assert.deepEqual(
      firstDelivery!.events.map((e) => e.name),
      ['herald.retry', 'herald.redelivery'],
    );
    const redelivery = firstDelivery!.events[1]!.attributes!;
    const delayMs = Number(redelivery['herald.redelivery.delay_ms']);
    assert.ok(delayMs > 0 && delayMs <= 5, `delay ${delayMs}`);
    assert.equal(redelivery['herald.delivery.attempt'], 2);
    assert.equal(redelivery['exception.message'], 'always fails');
    assert.deepEqual(
      secondDelivery!.events.map((e) => e.name),
      ['herald.retry', 'herald.dead_letter'],
    );
    const dead = secondDelivery!.events[1]!.attributes!;
    assert.equal(dead['herald.dead_letter.reason'], 'max-attempts');
    assert.equal(dead['herald.dead_letter.attempts'], 2);
    assert.equal(dead['error.type'], 'TypeError');
    assert.match(String(dead['exception.stacktrace']), /always fails/);

    await router.close();
    await transport.close();
  });

  it('keeps the trace of the request that wrote an outbox row through the relay', async () => {
    exporter.reset();
    const transport: Transport = memory();
    const Ordered = defineEvent({ type: 'Ordered', topic: uniqueName('orders'), schema: testSchema });
    const seen: CloudEvent[] = [];
    const router = createRouter({ transport, group: 'payment', source: '/payment' }).on(Ordered, (event) => {
      seen.push(event);
    });
    await router.start();
    // The HTTP request's span is active while the service builds the event for its outbox (emit/add)...
    const request = startServerSpan({
      method: 'post',
      url: '/orders?x=1',
      route: '/orders',
      headers: { 'user-agent': 'test' },
    });
    const event = await request.run(() => createEvent('/order', Ordered, { key: 'k', seq: 1 }));
    request.end(201);
    // ...and the relay later sends the row, outside any span.
    await sendRecords(transport, [encodeEvent(Ordered.topic, event)]);
    await waitFor(() => seen.length === 1 && named(`process ${Ordered.topic}`).length === 1);

    const server = one('POST /orders');
    const create = one(`create ${Ordered.topic}`);
    const send = one(`send ${Ordered.topic}`);
    const process = one(`process ${Ordered.topic}`);
    assert.equal(server.kind, SpanKind.SERVER);
    assert.equal(server.attributes['http.response.status_code'], 201);
    assert.equal(server.attributes['url.path'], '/orders');
    assert.equal(server.attributes['http.route'], '/orders');
    assert.equal(create.kind, SpanKind.PRODUCER);
    assert.equal(create.attributes['messaging.operation.type'], 'create');
    assert.equal(parentOf(create), idOf(server));
    assert.equal(event.traceparent, `00-${server.spanContext().traceId}-${idOf(create)}-01`);
    // The relay's send: CLIENT (the creation context is the create span's), linked to it, in the same trace.
    assert.equal(send.kind, SpanKind.CLIENT);
    assert.equal(parentOf(send), idOf(create));
    assert.deepEqual(
      send.links.map((l) => [l.context.spanId, l.attributes?.['messaging.message.id']]),
      [[idOf(create), event.id]],
    );
    assert.equal(send.attributes['messaging.batch.message_count'], 1);
    // The consumer continues from the creation context.
    assert.equal(parentOf(process), idOf(create));
    assert.equal(process.spanContext().traceId, server.spanContext().traceId);

    await router.close();
    await transport.close();
  });

  it('continues a caller trace from the request headers', () => {
    exporter.reset();
    const request = startServerSpan({
      method: 'GET',
      url: '/orders/1',
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    request.setRoute('/orders/:id');
    request.end(503);
    const span = one('GET /orders/:id');
    assert.equal(span.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(parentOf(span), '00f067aa0ba902b7');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], '503');
  });

  it('gives each HTTP request a root span through request hooks, leaving probes untraced', async () => {
    exporter.reset();
    const hooks = httpTracingHooks();
    const Ordered = defineEvent({ type: 'Ordered', topic: uniqueName('orders'), schema: testSchema });
    const request = { method: 'POST', url: '/orders', headers: {}, routeOptions: { url: '/orders' } };
    let event: CloudEvent | undefined;
    await new Promise<void>((resolve) => {
      hooks.onRequest(request, {}, () => {
        hooks.preHandler(request, {}, () => {
          void createEvent('/order', Ordered, { key: 'k', seq: 1 }).then((built) => {
            event = built;
            resolve();
          });
        });
      });
    });
    hooks.onResponse(request, { statusCode: 202 }, () => undefined);
    const probe = { method: 'GET', url: '/health/ready', headers: {} };
    hooks.onRequest(probe, {}, () => undefined);
    hooks.preHandler(probe, {}, () => undefined);
    hooks.onResponse(probe, { statusCode: 200 }, () => undefined);
    const server = one('POST /orders');
    assert.equal(server.attributes['http.response.status_code'], 202);
    assert.equal(parentOf(one(`create ${Ordered.topic}`)), idOf(server));
    assert.equal(event!.traceparent!.split('-')[1], server.spanContext().traceId);
    assert.deepEqual(
      spans().map((s) => s.name),
      [`create ${Ordered.topic}`, 'POST /orders'],
    );
  });

  it('records nothing once the SDK is shut down, and routers then leave telemetry out', async () => {
    await telemetry.shutdown();
    exporter.reset();
    assert.equal(tracingActive(), false);
    const transport = memory();
    const Ordered = defineEvent({ type: 'Ordered', topic: uniqueName('orders'), schema: testSchema });
    let handled = 0;
    const router = createRouter({ transport, group: 'payment', source: '/payment' }).on(Ordered, () => {
      handled++;
    });
    assert.equal(router.describe().pipeline[0], 'dead-letter');
    await router.start();
    const event = await createPublisher({ transport, source: '/order' }).publish(Ordered, {
      key: 'k',
      seq: 1,
    });
    await waitFor(() => handled === 1);
    assert.equal(event.traceparent, undefined);
    assert.deepEqual(spans(), []);
    await router.close();
    await transport.close();
  });
});
