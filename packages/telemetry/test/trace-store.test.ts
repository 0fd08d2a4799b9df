import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { openTraceStore, TraceStoreExporter, type StoredSpan } from '@herald/telemetry';
import { tempFolder } from '@herald/core/testing';

const dir = tempFolder('herald-traces-');

let counter = 0;
function span(traceId: string, overrides: Partial<StoredSpan> = {}): StoredSpan {
  counter++;
  return {
    traceId,
    spanId: counter.toString(16).padStart(16, '0'),
    parentSpanId: undefined,
    name: 'work',
    kind: 'INTERNAL',
    service: 'svc',
    scope: 'test',
    startUs: Date.now() * 1000,
    durationUs: 1000,
    status: 'UNSET',
    statusMessage: undefined,
    attributes: { 'messaging.destination.name': 'orders', n: counter },
    events: [],
    links: [],
    ...overrides,
  };
}

const traceId = (n: number): string => n.toString(16).padStart(32, '0');

describe('local trace store', () => {
  it('round-trips spans and summarises traces across the services that wrote them', () => {
    const path = join(dir, 'round-trip.db');
    const writer = openTraceStore({ path });
    const now = Date.now() * 1000;
    const root = span(traceId(1), { name: 'POST /orders', kind: 'SERVER', service: 'order', startUs: now });
    const child = span(traceId(1), {
      name: 'process orders',
      kind: 'CONSUMER',
      service: 'payment',
      parentSpanId: root.spanId,
      startUs: now + 2000,
      durationUs: 5000,
      status: 'ERROR',
      statusMessage: 'declined',
      events: [{ name: 'herald.retry', timeUs: now + 3000, attributes: { 'herald.try': 2 } }],
      links: [{ traceId: traceId(1), spanId: root.spanId, attributes: { 'messaging.message.id': 'e1' } }],
    });
    // The consumer's span arrives first, from another process, in another batch.
    writer.write([child]);
    const other = openTraceStore({ path });
    other.write([root, span(traceId(2), { startUs: now + 10_000 })]);

    assert.deepEqual(writer.trace(traceId(1)), [root, child]);
    assert.deepEqual(writer.trace(traceId(3)), []);
    const [newest, oldest] = writer.recentTraces();
    assert.equal(newest!.traceId, traceId(2));
    assert.deepEqual(oldest, {
      traceId: traceId(1),
      startUs: now,
      endUs: now + 7000,
      rootName: 'POST /orders',
      rootService: 'order',
      spanCount: 2,
      errorCount: 1,
      services: ['order', 'payment'],
    });
    assert.deepEqual(
      writer.recentTraces({ service: 'payment' }).map((t) => t.traceId),
      [traceId(1)],
    );
    assert.deepEqual(
      writer.recentTraces({ errorsOnly: true }).map((t) => t.traceId),
      [traceId(1)],
    );
    assert.deepEqual(
      writer.recentTraces({ beforeUs: now + 10_000 }).map((t) => t.traceId),
      [traceId(1)],
    );
    assert.equal(writer.recentTraces({ limit: 1 }).length, 1);
    writer.close();
    other.close();
    // Durable: reopening finds the same traces.
    const reopened = openTraceStore({ path });
    assert.equal(reopened.trace(traceId(1)).length, 2);
    reopened.close();
  });

  it('prunes the oldest traces beyond the count and the age bounds', () => {
    const store = openTraceStore({
      path: join(dir, 'prune.db'),
      maxTraces: 3,
      maxAgeMs: 60_000,
      pruneIntervalMs: 0,
    });
    const now = Date.now();
    // Ten traces a second apart, the oldest written last; each write prunes (interval 0).
    for (let i = 9; i >= 0; i--) {
      store.write([span(traceId(100 + i), { startUs: (now - 1000 * (10 - i)) * 1000 })]);
    }
    assert.deepEqual(
      store.recentTraces().map((t) => t.traceId),
      [traceId(109), traceId(108), traceId(107)],
    );
    assert.deepEqual(store.trace(traceId(100)), []);
    // Older than an hour: dropped by age at the next prune.
    assert.equal(store.prune(now + 3_600_000), 3);
    assert.deepEqual(store.recentTraces(), []);
    assert.throws(() => openTraceStore({ path: join(dir, 'bad.db'), maxTraces: 0 }), /maxTraces/);
    store.close();
  });

  it('stores what the OpenTelemetry SDK records, through its exporter', async () => {
    const path = join(dir, 'exporter.db');
    const exporter = new TraceStoreExporter({ path });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'exporting-service' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('@herald/core');
    const parent = tracer.startSpan('send orders', {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.destination.name': 'orders' },
    });
    parent.addEvent('herald.retry', { 'herald.try': 2 });
    parent.setStatus({ code: SpanStatusCode.ERROR, message: 'down' });
    parent.end();
    await provider.forceFlush();
    const { traceId: id, spanId } = parent.spanContext();
    const [stored] = exporter.store.trace(id);
    assert.ok(stored);
    assert.equal(stored.spanId, spanId);
    assert.equal(stored.name, 'send orders');
    assert.equal(stored.kind, 'PRODUCER');
    assert.equal(stored.service, 'exporting-service');
    assert.equal(stored.scope, '@herald/core');
    assert.equal(stored.status, 'ERROR');
    assert.equal(stored.statusMessage, 'down');
    assert.deepEqual(stored.attributes, { 'messaging.destination.name': 'orders' });
    assert.equal(stored.events[0]!.name, 'herald.retry');
    assert.ok(Math.abs(stored.startUs - Date.now() * 1000) < 60_000_000);
    await provider.shutdown();
  });
});
