/**
 * Observability end to end: the four services as processes place one order, then
 * - the local trace store (`<data dir>/traces.db`) holds ONE trace for it, rooted at the order service's HTTP span,
 *   with the spans of all four services linked parent to child (HTTP → producer → consumers in payment and
 *   inventory → … → notification) and the messaging attributes;
 * - `/metrics` of every service is Prometheus text whose published/processed counters moved;
 * - `/health/live` and `/health/ready` answer on every service;
 * - the services' JSON log lines of the order join by its trace id.
 * On the embedded transport always; on Kafka (with SQLite, then PostgreSQL state) when a broker is reachable
 * (`bash scripts/kafka/broker.sh start`) and PostgreSQL too; under `CI=true` an unreachable one fails instead.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTraceStore, TRACE_STORE_FILE, type StoredSpan } from '@herald/telemetry';
import { kafkaEngine, sqliteEngine, type Engine } from './e2e/engines.ts';
import { killLeftovers, SERVICE_NAMES, Shop } from './e2e/shop-harness.ts';
import { skipReason } from './e2e/shop-scenario.ts';

// Spans reach the store within ~100 ms of ending instead of the default 5 s (the children inherit it).
process.env.OTEL_BSP_SCHEDULE_DELAY = '100';

const TIMEOUT_MS = 45_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One sample of a Prometheus text exposition. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
// Go's ParseFloat, which Prometheus uses, takes `NaN` and `Inf` in any case (prom-client prints `Nan`).
const VALUE = /^(?:[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|[-+]?inf|nan)$/i;

/** Parses Prometheus text strictly: every non-comment line must be `name{labels} value`. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '' || line.startsWith('#')) {
      if (line.startsWith('# ') && !/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ./.test(line))
        assert.fail(`line ${index + 1}: bad comment ${JSON.stringify(line)}`);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (match === null) assert.fail(`line ${index + 1} is not "name{labels} value": ${JSON.stringify(line)}`);
    const [, name, labelText = '', valueText] = match;
    assert.match(valueText!, VALUE, `line ${index + 1}: bad value`);
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText);
      if (label === null) assert.fail(`line ${index + 1}: bad labels ${JSON.stringify(labelText)}`);
      labels[label[1]!] = label[2]!;
    }
    samples.push({
      name: name!,
      labels,
      value: Number(valueText!.replace(/inf$/i, 'Infinity').replace(/^nan$/i, 'NaN')),
    });
  }
  return samples;
}

const total = (samples: readonly Sample[], name: string): number =>
  samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);

async function get(url: string): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(5000) });
}

async function scrape(url: string): Promise<Sample[]> {
  const response = await get(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheus(await response.text());
}

/** The JSON log lines a service printed (its stdout); other lines are ignored. */
function jsonLines(shop: Shop, label: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of (shop.outputByInstance.get(label) ?? []).join('').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut by a still-running write.
    }
  }
  return lines;
}

function describeTrace(spans: readonly StoredSpan[]): string {
  return spans
    .map((s) => `${s.service} ${s.kind} "${s.name}" ${s.spanId} <- ${s.parentSpanId ?? 'root'}`)
    .join('\n');
}

async function describeTracing(engine: Engine, postgres = false): Promise<void> {
  const skip = await skipReason({ engine, postgres });
  describe(
    `observability end to end (${engine.name}, ${postgres ? 'PostgreSQL' : 'SQLite'} state)`,
    { timeout: 120_000, ...(skip === undefined ? {} : { skip }) },
    () => {
      let shop: Shop;
      const urls = new Map<string, string>();
      const before_ = new Map<string, Sample[]>();
      let orderId = '';
      let traceId = '';
      let spans: StoredSpan[] = [];

      before(async () => {
        shop = await Shop.create({ engine, postgres });
        await shop.startAll();
        for (const name of SERVICE_NAMES) urls.set(name, await shop.children.get(name)!.ready);
        for (const name of SERVICE_NAMES) before_.set(name, await scrape(urls.get(name)!));

        const response = await fetch(`${shop.orderUrl}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'tracer', items: [{ sku: 'KB-101', quantity: 1 }] }),
        });
        assert.equal(response.status, 202);
        orderId = ((await response.json()) as { orderId: string }).orderId;

        // The order settles, then its trace holds every service's spans and stops growing.
        const store = openTraceStore({ path: join(shop.dataDir, TRACE_STORE_FILE) });
        try {
          const deadline = Date.now() + TIMEOUT_MS;
          let stableSince = 0;
          let lastCount = -1;
          for (;;) {
            if (Date.now() > deadline)
              assert.fail(`no complete trace for order ${orderId}\n${describeTrace(spans)}\n${shop.tail()}`);
            const status = (
              (await (await get(`${shop.orderUrl}/orders/${orderId}`)).json()) as {
                status?: string;
              }
            ).status;
            const traces = store.recentTraces({ service: 'notification-service' });
            if (status === 'CONFIRMED' && traces.length > 0) {
              traceId = traces[0]!.traceId;
              spans = store.trace(traceId);
              if (spans.length === lastCount) {
                if (Date.now() - stableSince > 1000) break;
              } else {
                lastCount = spans.length;
                stableSince = Date.now();
              }
            }
            await sleep(100);
          }
        } finally {
          store.close();
        }
      });

      after(async () => {
        await shop?.dispose();
        await killLeftovers();
      });

      it('keeps one trace for the order, rooted at the HTTP request, with spans of all four services', () => {
        const dump = describeTrace(spans);
        const roots = spans.filter((s) => s.parentSpanId === undefined);
        assert.equal(roots.length, 1, `one root span\n${dump}`);
        const root = roots[0]!;
        assert.equal(root.service, 'order-service');
        assert.equal(root.kind, 'SERVER');
        assert.equal(root.name, 'POST /orders');
        assert.equal(root.attributes['http.request.method'], 'POST');
        assert.equal(root.attributes['http.route'], '/orders');
        assert.equal(root.attributes['http.response.status_code'], 202);
        const byId = new Map(spans.map((s) => [s.spanId, s]));
        for (const span of spans) {
          assert.equal(span.traceId, traceId);
          if (span !== root)
            assert.ok(byId.has(span.parentSpanId!), `parent of ${span.name} is in the trace\n${dump}`);
        }
        assert.deepEqual(
          [...new Set(spans.map((s) => s.service))].sort(),
          [...SERVICE_NAMES].sort(),
          `spans of all four services\n${dump}`,
        );
      });

      it('links HTTP → producer → consumers in payment and inventory → … → notification', () => {
        const dump = describeTrace(spans);
        const byId = new Map(spans.map((s) => [s.spanId, s]));
        const ancestors = (span: StoredSpan): StoredSpan[] => {
          const chain: StoredSpan[] = [];
          for (let at = span.parentSpanId; at !== undefined; at = byId.get(at)?.parentSpanId)
            chain.push(byId.get(at)!);
          return chain;
        };
        const placed = spans.find(
          (s) => s.kind === 'PRODUCER' && s.service === 'order-service' && ancestors(s).length > 0,
        );
        assert.ok(placed, `a producer span of the order service\n${dump}`);
        assert.equal(ancestors(placed).at(-1)!.kind, 'SERVER', 'the producer descends from the HTTP span');
        for (const service of ['payment-service', 'inventory-service']) {
          const consumer = spans.find(
            (s) => s.service === service && s.kind === 'CONSUMER' && s.parentSpanId === placed.spanId,
          );
          assert.ok(consumer, `${service} processes the order service's event as a child span\n${dump}`);
        }
        const notification = spans.find((s) => s.service === 'notification-service' && s.kind === 'CONSUMER');
        assert.ok(notification, `a consumer span in the notification service\n${dump}`);
        const chain = ancestors(notification);
        assert.equal(chain.at(-1)!.name, 'POST /orders', 'the notification descends from the HTTP request');
        assert.ok(
          chain.some((s) => s.kind === 'PRODUCER' && s.service === 'order-service'),
          `the notification follows an event published by the order service\n${dump}`,
        );
        assert.ok(
          chain.some((s) => s.kind === 'CONSUMER' && s.service === 'order-service'),
          `the notification follows the order service's confirmation, itself a consumer\n${dump}`,
        );
        assert.ok(
          chain.some(
            (s) => s.kind === 'CONSUMER' && ['payment-service', 'inventory-service'].includes(s.service),
          ),
          `… which follows payment or inventory\n${dump}`,
        );
        // Every publish is a "send" span under the event's "create" span, in the publishing process.
        for (const send of spans.filter((s) => s.attributes['messaging.operation.type'] === 'send')) {
          const created = byId.get(send.parentSpanId!)!;
          assert.equal(created.kind, 'PRODUCER');
          assert.equal(created.service, send.service);
        }
        // Every consumer's parent is a producer (the event's publish), in another process.
        for (const consumer of spans.filter((s) => s.kind === 'CONSUMER')) {
          const parent = byId.get(consumer.parentSpanId!)!;
          assert.equal(parent.kind, 'PRODUCER', `parent of ${consumer.service} ${consumer.name}\n${dump}`);
        }
      });

      it('carries the messaging attributes on producer and consumer spans', () => {
        const producers = spans.filter((s) => s.kind === 'PRODUCER');
        const consumers = spans.filter((s) => s.kind === 'CONSUMER');
        assert.ok(producers.length >= 3 && consumers.length >= 4, describeTrace(spans));
        for (const span of [...producers, ...consumers, ...spans.filter((s) => s.kind === 'CLIENT')]) {
          const a = span.attributes;
          assert.equal(typeof a['messaging.system.name'], 'string', `messaging.system.name on ${span.name}`);
          assert.equal(typeof a['messaging.destination.name'], 'string', `destination on ${span.name}`);
          assert.equal(typeof a['messaging.operation.type'], 'string', `operation type on ${span.name}`);
          assert.equal(typeof a['messaging.operation.name'], 'string', `operation name on ${span.name}`);
        }
        const sends = spans.filter((s) => s.attributes['messaging.operation.type'] === 'send');
        // The payment deadline is created with the order but held until the deadline (15 min): no send yet.
        const relayed = producers.filter(
          (s) => !String(s.attributes['messaging.destination.name']).endsWith('order-deadlines'),
        );
        assert.ok(
          relayed.length < producers.length,
          `the held deadline event was created\n${describeTrace(spans)}`,
        );
        assert.ok(sends.length >= relayed.length, `a send span per relayed event\n${describeTrace(spans)}`);
        for (const span of producers) assert.equal(span.attributes['messaging.operation.type'], 'create');
        for (const span of consumers) {
          assert.equal(span.attributes['messaging.operation.type'], 'process');
          assert.equal(typeof span.attributes['messaging.message.id'], 'string');
          assert.equal(span.attributes['messaging.consumer.group.name'], span.service);
        }
      });

      it('serves Prometheus text at /metrics on every service, with counters that moved', async () => {
        for (const name of SERVICE_NAMES) {
          const samples = await scrape(urls.get(name)!);
          const earlier = before_.get(name)!;
          assert.ok(
            total(samples, 'herald_events_processed_total') > total(earlier, 'herald_events_processed_total'),
            `${name}: events processed`,
          );
          assert.ok(
            samples.every((s) => s.labels.service === name),
            `${name}: every series is labelled with the service`,
          );
          assert.ok(
            samples.some((s) => s.name === 'herald_outbox_backlog' && s.labels.outbox === name),
            `${name}: outbox backlog`,
          );
          assert.ok(
            samples.some((s) => s.name === 'herald_outbox_oldest_age_seconds' && s.labels.outbox === name),
            `${name}: outbox age`,
          );
          assert.ok(samples.some((s) => s.name === 'herald_handler_duration_seconds_bucket'));
        }
        for (const name of ['order-service', 'payment-service', 'inventory-service']) {
          const samples = await scrape(urls.get(name)!);
          assert.ok(
            total(samples, 'herald_events_published_total') >
              total(before_.get(name)!, 'herald_events_published_total'),
            `${name}: events published`,
          );
        }
      });

      it('answers /health/live and /health/ready on every service (and /health on the order service)', async () => {
        for (const name of SERVICE_NAMES) {
          const live = await get(`${urls.get(name)!}/health/live`);
          assert.equal(live.status, 200);
          assert.equal(((await live.json()) as { status: string }).status, 'ok');
          const ready = await get(`${urls.get(name)!}/health/ready`);
          const report = (await ready.json()) as {
            status: string;
            service: string;
            checks: Record<string, { status: string }>;
          };
          assert.equal(ready.status, 200, JSON.stringify(report));
          assert.equal(report.service, name);
          assert.deepEqual(Object.keys(report.checks).sort(), ['broker', 'consumers', 'database']);
          for (const check of Object.values(report.checks)) assert.equal(check.status, 'ok');
        }
        assert.equal((await get(`${shop.orderUrl}/health`)).status, 200);
      });

      it('writes JSON logs whose lines of the order join by trace id across the four services', () => {
        for (const name of SERVICE_NAMES) {
          const lines = jsonLines(shop, name);
          assert.ok(lines.length > 0, `${name} logs JSON lines`);
          for (const line of lines) assert.equal(line.service, name);
          const ofTrace = lines.filter((line) => line.trace_id === traceId);
          assert.ok(ofTrace.length > 0, `${name} logged a line with the order's trace id ${traceId}`);
          if (name !== 'order-service') {
            assert.ok(
              ofTrace.some(
                (line) => typeof line.event_id === 'string' && typeof line.correlation_id === 'string',
              ),
              `${name}: lines of a handled event carry its event id and correlation id`,
            );
          }
        }
      });
    },
  );
}

await describeTracing(sqliteEngine);
await describeTracing(kafkaEngine);
// The outbox metrics read PostgreSQL's outbox there.
await describeTracing(kafkaEngine, true);
