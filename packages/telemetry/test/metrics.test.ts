import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublisher, createRouter, defineEvent, memory, messagingMetrics } from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';
import { outboxBacklog, prometheusMetrics } from '@herald/telemetry';

const fast = {
  retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
  redelivery: { maxDeliveries: 2, backoff: { initialMs: 5, maxMs: 5 } },
};

/** `name{labels}` with its labels sorted, so keys do not depend on the order prom-client writes them in. */
function normalize(key: string): string {
  const at = key.indexOf('{');
  if (at < 0) return key;
  const labels = key.slice(at + 1, -1).match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
  return `${key.slice(0, at)}{${labels.sort().join(',')}}`;
}

/** Parses Prometheus text into `name{labels}` → value, checking every sample line's syntax on the way. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      if (line.startsWith('#')) assert.match(line, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/i.exec(line);
    assert.ok(match, `a Prometheus sample line: ${line}`);
    samples.set(normalize(`${match[1]}${match[2] ?? ''}`), Number(match[3]));
  }
  return samples;
}

describe('Prometheus metrics', () => {
  it('count publishes, processing, failures, retries and dead letters, with handler durations', async () => {
    const metrics = prometheusMetrics({ defaultLabels: { service: 'svc' }, processMetrics: false });
    try {
      assert.equal(messagingMetrics(), metrics);
      const transport = memory();
      const Ok = defineEvent({ type: 'Ok', topic: 'ok-events', schema: testSchema });
      const Broken = defineEvent({ type: 'Broken', topic: 'broken-events', schema: testSchema });
      const router = createRouter({ transport, group: 'g', source: '/test', ...fast })
        .on(Ok, () => undefined)
        .on(Broken, () => {
          throw new TypeError('broken');
        });
      await router.start();
      const publisher = createPublisher({ transport, source: '/test' });
      await publisher.publish(Ok, { key: 'a', seq: 1 });
      await publisher.publish(Ok, { key: 'a', seq: 2 });
      await publisher.publish(Broken, { key: 'b', seq: 1 });
      await waitFor(async () => (await transport.deadLetters!.list({ group: 'g' })).length === 1);
      await router.close();
      await transport.close();

      const text = await metrics.text();
      assert.equal(metrics.contentType.split(';')[0], 'text/plain');
      const samples = parse(text);
      const get = (key: string): number | undefined => samples.get(normalize(key));
      assert.equal(get('herald_events_published_total{topic="ok-events",type="Ok",service="svc"}'), 2);
      assert.equal(
        get('herald_events_published_total{topic="broken-events",type="Broken",service="svc"}'),
        1,
      );
      assert.equal(
        get('herald_events_processed_total{topic="ok-events",type="Ok",group="g",service="svc"}'),
        2,
      );
      assert.equal(
        get(
          'herald_events_failed_total{topic="broken-events",type="Broken",group="g",error_type="TypeError",service="svc"}',
        ),
        2,
      );
      assert.equal(
        get(
          'herald_events_retried_total{topic="broken-events",type="Broken",group="g",kind="immediate",service="svc"}',
        ),
        2,
      );
      assert.equal(
        get(
          'herald_events_retried_total{topic="broken-events",type="Broken",group="g",kind="redelivery",service="svc"}',
        ),
        1,
      );
      assert.equal(
        get(
          'herald_events_dead_lettered_total{topic="broken-events",type="Broken",group="g",reason="max-attempts",service="svc"}',
        ),
        1,
      );
      assert.equal(
        get(
          'herald_handler_duration_seconds_count{topic="ok-events",type="Ok",group="g",outcome="success",service="svc"}',
        ),
        2,
      );
      assert.equal(
        get(
          'herald_handler_duration_seconds_count{topic="broken-events",type="Broken",group="g",outcome="error",service="svc"}',
        ),
        4,
      );
      assert.ok(
        get(
          'herald_handler_duration_seconds_bucket{le="+Inf",topic="ok-events",type="Ok",group="g",outcome="success",service="svc"}',
        ) === 2,
      );
    } finally {
      metrics.close();
    }
    assert.equal(messagingMetrics(), undefined);
  });

  it('report consumer lag per group and partition, and outbox backlog and age, at each scrape', async () => {
    const metrics = prometheusMetrics({ processMetrics: false, register: false });
    const transport = memory({ partitions: 1 });
    const Ping = defineEvent({ type: 'Ping', topic: uniqueName('t'), schema: testSchema });
    const publisher = createPublisher({ transport, source: '/test' });
    for (let seq = 0; seq < 3; seq++) await publisher.publish(Ping, { key: 'k', seq });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    const router = createRouter({ transport, group: 'lagging', source: '/test' }).on(Ping, async () => {
      await gate;
      handled++;
    });
    await router.start();
    const stopWatching = metrics.watchTransport(transport);
    let pending = 4;
    const oldest = Date.now() - 30_000;
    metrics.watchOutbox('orders', () => ({ pending, oldestCreatedAt: new Date(oldest) }));
    metrics.watchOutbox(
      'payments',
      outboxBacklog({ pending: () => 1, peek: () => [{ createdAt: Date.now() - 2000 }] }),
    );
    assert.throws(() => metrics.watchOutbox('orders', () => ({ pending: 0 })), /HERALD_CONFIG|"outbox"/);

    const lagKey = `herald_consumer_lag{group="lagging",topic="${Ping.topic}",partition="0"}`;
    await waitFor(async () => parse(await metrics.text()).get(normalize(lagKey)) === 3);
    let samples = parse(await metrics.text());
    assert.equal(samples.get('herald_outbox_backlog{outbox="orders"}'), 4);
    assert.ok(Math.abs(samples.get('herald_outbox_oldest_age_seconds{outbox="orders"}')! - 30) < 5);
    assert.equal(samples.get('herald_outbox_backlog{outbox="payments"}'), 1);
    assert.ok(samples.get('herald_outbox_oldest_age_seconds{outbox="payments"}')! >= 2);

    release();
    await waitFor(() => handled === 3);
    pending = 0;
    await waitFor(async () => parse(await metrics.text()).get(normalize(lagKey)) === 0);
    samples = parse(await metrics.text());
    assert.equal(samples.get('herald_outbox_backlog{outbox="orders"}'), 0);
    stopWatching();
    samples = parse(await metrics.text());
    assert.equal(samples.get(normalize(lagKey)), undefined);
    await router.close();
    await transport.close();
    metrics.close();
  });

  it('include process metrics by default and check their options', async () => {
    const metrics = prometheusMetrics({ register: false });
    const samples = parse(await metrics.text());
    assert.ok([...samples.keys()].some((k) => k.startsWith('process_cpu_seconds_total')));
    assert.throws(() => prometheusMetrics({ register: false, durationBuckets: [1, 0.5] }), /durationBuckets/);
    metrics.close();
  });
});
