import { appendFileSync } from 'node:fs';
import { createPublisher, createRouter, defineEvent } from '@herald/core';
import {
  InMemorySpanExporter,
  setupTelemetry,
  type ReadableSpan,
  type SpanExporter,
  type Telemetry,
} from '@herald/telemetry';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { eventDataObject, keyOf, TOPIC } from '../message.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { HERALD_CONCURRENCY } from './herald-client.ts';
import { loadHeraldSqlite } from './herald-sqlite.ts';

/** The benchmark's order event, as B1 sends it: its stamp plus an order-like body. */
type OrderData = ReturnType<typeof eventDataObject>;

/** A Standard Schema that accepts the data as is: B5 measures tracing, not a validator. */
const orderSchema: {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => { readonly value: OrderData };
    readonly types?: { readonly input: OrderData; readonly output: OrderData };
  };
} = {
  '~standard': {
    version: 1,
    vendor: 'herald-bench',
    validate: (value) => ({ value: value as OrderData }),
  },
};

const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  topic: TOPIC,
  schema: orderSchema,
  key: (data) => keyOf(data.seq),
});

/**
 * The sink of the traced runs: it takes every batch the `BatchSpanProcessor` hands it, counts it and drops it.
 * This charges the SDK's own work (span objects, attributes, context propagation, the processor's queue) and none
 * of a backend's: the in-memory exporter would keep every span (RSS and GC growing with the trial), and OTLP or
 * the local trace store would add serialisation and I/O that depend on where the spans go.
 */
export class CountingSpanExporter extends InMemorySpanExporter {
  spans = 0;
  override export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.spans += spans.length;
    super.export(spans, done);
    // Keeps nothing: the in-memory exporter's list is emptied after every batch.
    this.reset();
  }
}

/** Spans the batch processor may hold (`OTEL_BSP_MAX_QUEUE_SIZE`); its default is 2,048. */
export const BATCH_QUEUE = 65_536;

/** With `resources.traced`: the OpenTelemetry SDK, before the publisher or router exists (they check for it). */
function telemetryFor(
  spec: TrialSpec,
  role: string,
): { telemetry?: Telemetry; exporter?: CountingSpanExporter } {
  if (spec.resources.traced !== 'true') return {};
  const exporter = new CountingSpanExporter();
  const telemetry = setupTelemetry({
    serviceName: `bench-${role}`,
    env: {},
    spanExporters: [exporter],
    metrics: false,
    // The default queue (2,048 spans) overflows at full speed here and drops most spans (a trial of 20k events
    // exported 2.5k): a larger queue keeps every span, so the traced runs pay for all of them.
    batch: { maxQueueSize: BATCH_QUEUE },
  });
  return { telemetry, exporter };
}

async function open(spec: TrialSpec) {
  const sqlite = await loadHeraldSqlite();
  if (!sqlite) throw new Error('@herald/sqlite does not export sqlite() yet');
  return sqlite({ path: spec.resources.path!, durability: spec.durability });
}

async function finish(
  spec: TrialSpec,
  telemetry: Telemetry | undefined,
  exporter: CountingSpanExporter | undefined,
  role: string,
) {
  if (!telemetry) return;
  await telemetry.shutdown();
  // `BENCH_B5_SPANS=<file>`: appends how many spans the process exported, to check that none were dropped.
  const file = process.env.BENCH_B5_SPANS;
  if (file) appendFileSync(file, `${spec.count} events, ${role}: ${exporter!.spans} spans\n`);
}

async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const { telemetry, exporter } = telemetryFor(spec, 'producer');
  const transport = await open(spec);
  const publisher = createPublisher({ transport, source: '/bench/producer' });
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          publisher.publish(OrderPlaced, eventDataObject(from + i, sentAt)),
        ),
      );
    },
    async publishOne(seq, sentAt) {
      await publisher.publish(OrderPlaced, eventDataObject(seq, sentAt));
    },
    async close() {
      await transport.close();
      await finish(spec, telemetry, exporter, 'producer');
    },
  };
}

async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const { telemetry, exporter } = telemetryFor(spec, 'consumer');
  const transport = await open(spec);
  const router = createRouter({
    transport,
    group: placement.group,
    source: '/bench/consumer',
    concurrency: HERALD_CONCURRENCY,
  });
  router.on(OrderPlaced, (event) => {
    sink.accept({ seq: event.data.seq, sentAt: event.data.sentAt });
  });
  await router.start();
  return {
    async close() {
      await router.close();
      await transport.close();
      await finish(spec, telemetry, exporter, 'consumer');
    },
  };
}

export const heraldApiClient: PeerClient = { producer, consumer };
