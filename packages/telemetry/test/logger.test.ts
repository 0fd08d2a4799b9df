import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createPublisher, createRouter, defineEvent, memory } from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';
import { loggerFor, logContext } from '@herald/telemetry';
import { recordSpans } from './span-recording.ts';

/** A destination collecting the JSON lines pino writes. */
function lines(): { stream: Writable; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, records };
}

const telemetry = recordSpans('log-test');
const { exporter } = telemetry;

describe('structured logs', () => {
  it('carry the trace, span, event and correlation ids of where they are written', async () => {
    const { stream, records } = lines();
    const log = loggerFor({ service: 'payment-service', destination: stream, level: 'debug' });
    log.info('starting');
    log.error({ error: new TypeError('bad input') }, 'failed');
    const transport = memory();
    const Ordered = defineEvent({ type: 'Ordered', topic: uniqueName('orders'), schema: testSchema });
    const router = createRouter({ transport, group: 'payment', source: '/payment' }).on(Ordered, (event) => {
      log.info({ orderKey: event.data.key }, 'charging');
    });
    await router.start();
    const event = await createPublisher({ transport, source: '/order' }).publish(
      Ordered,
      { key: 'o-1', seq: 1 },
      { correlationId: 'order-1' },
    );
    await waitFor(() => records.length === 3);
    await router.close();
    await transport.close();

    const [outside, failed, inside] = records;
    assert.deepEqual(
      {
        type: (failed!.error as { type: string }).type,
        message: (failed!.error as { message: string }).message,
      },
      { type: 'TypeError', message: 'bad input' },
    );
    assert.match((failed!.error as { stack: string }).stack, /TypeError: bad input/);
    assert.equal(outside!.msg, 'starting');
    assert.equal(outside!.service, 'payment-service');
    assert.equal(outside!.level, 'info');
    assert.match(String(outside!.time), /^\d{4}-\d\d-\d\dT/);
    assert.equal(outside!.trace_id, undefined);
    assert.equal(outside!.event_id, undefined);

    const process = exporter.getFinishedSpans().find((s) => s.name === `process ${Ordered.topic}`)!;
    assert.equal(inside!.msg, 'charging');
    assert.equal(inside!.orderKey, 'o-1');
    assert.equal(inside!.trace_id, process.spanContext().traceId);
    assert.equal(inside!.span_id, process.spanContext().spanId);
    assert.equal(inside!.trace_flags, '01');
    assert.equal(inside!.event_id, event.id);
    assert.equal(inside!.event_type, 'Ordered');
    assert.equal(inside!.correlation_id, 'order-1');
    assert.equal(inside!.trace_id, event.traceparent!.split('-')[1]);
  });

  it('without an SDK, take the trace id from the handled event, so logs still join by trace', async () => {
    await telemetry.shutdown();
    const { stream, records } = lines();
    const log = loggerFor({ service: 'notification-service', destination: stream });
    const transport = memory();
    const Confirmed = defineEvent({ type: 'Confirmed', topic: uniqueName('orders'), schema: testSchema });
    const router = createRouter({ transport, group: 'notification', source: '/n' }).on(Confirmed, () => {
      log.warn('sending');
    });
    await router.start();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const event = await createPublisher({ transport, source: '/order' }).publish(
      Confirmed,
      { key: 'o-1', seq: 1 },
      { traceparent },
    );
    await waitFor(() => records.length === 1);
    await router.close();
    await transport.close();
    assert.equal(records[0]!.level, 'warn');
    assert.equal(records[0]!.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(records[0]!.span_id, undefined);
    assert.equal(records[0]!.event_id, event.id);
    assert.equal(records[0]!.correlation_id, event.id);
  });

  it('has no trace or event fields outside any span or handler, and checks the level', () => {
    assert.deepEqual(logContext(), {});
    assert.throws(() => loggerFor({ service: 's', level: 'loud' }), /"level"/);
  });
});
