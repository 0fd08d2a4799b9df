import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { openTraceStore, type StoredSpan, type TraceStore, type TraceStoreOptions } from './trace-store.ts';

const KINDS: Readonly<Record<number, string>> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

const STATUSES: Readonly<Record<number, string>> = {
  [SpanStatusCode.UNSET]: 'UNSET',
  [SpanStatusCode.OK]: 'OK',
  [SpanStatusCode.ERROR]: 'ERROR',
};

const micros = (time: HrTime): number => Math.round(hrTimeToMicroseconds(time));

function plain(attributes: Attributes): Record<string, unknown> {
  return { ...attributes };
}

/** Converts an SDK span into the store's row shape. */
export function toStoredSpan(span: ReadableSpan): StoredSpan {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  const service = span.resource.attributes['service.name'];
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: parent?.spanId,
    name: span.name,
    kind: KINDS[span.kind] ?? 'INTERNAL',
    service: typeof service === 'string' ? service : 'unknown_service',
    scope: span.instrumentationScope.name,
    startUs: micros(span.startTime),
    durationUs: micros(span.duration),
    status: STATUSES[span.status.code] ?? 'UNSET',
    statusMessage: span.status.message,
    attributes: plain(span.attributes),
    events: span.events.map((event) => ({
      name: event.name,
      timeUs: micros(event.time),
      attributes: plain(event.attributes ?? {}),
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: plain(link.attributes ?? {}),
    })),
  };
}

/**
 * A span exporter writing to the local {@link TraceStore}: the default when no exporter is configured, so traces are
 * kept on the machine for the operator console. Use it behind a `BatchSpanProcessor` (one transaction per batch).
 */
export class TraceStoreExporter implements SpanExporter {
  readonly store: TraceStore;
  #closed = false;

  constructor(store: TraceStore | TraceStoreOptions) {
    this.store = 'write' in store ? store : openTraceStore(store);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#closed) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: new Error('Trace store exporter is shut down'),
      });
      return;
    }
    try {
      this.store.write(spans.map(toStoredSpan));
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.#closed = true;
    this.store.close();
    return Promise.resolve();
  }
}
