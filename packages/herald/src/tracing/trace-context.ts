import {
  context as otelContext,
  createTraceState,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  trace,
  type Context,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { currentEvent } from '../causation.ts';
import type { CloudEvent } from '../message.ts';

/** The instrumentation scope of Herald's spans. */
export const TRACER_NAME = '@herald/core';

// What an unregistered global tracer provider delegates to: the API's no-op provider. `ProxyTracerProvider` is
// deprecated for removal in API 2.0; it is the only public way to tell "no SDK" apart in 1.x, which we pin.
// eslint-disable-next-line @typescript-eslint/no-deprecated
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True when an OpenTelemetry SDK is registered (a global tracer provider other than the API's no-op one). When it
 * is not, Herald creates no spans at all: tracing costs one check per publish and nothing per delivery.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  return !(provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_PROVIDER);
}

/** Herald's tracer from the global provider (looked up each time, so a re-registered SDK is picked up). */
export function heraldTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

const VERSION_00 = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const LATER_VERSION = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Reads a W3C `traceparent` (and `tracestate`) as a remote span context. Returns `undefined` for a missing or
 * malformed header, version `ff`, or all-zero ids, as the Trace Context spec requires. Later versions are read as
 * version 00 (their extra fields ignored). Runs once per delivery, so it tests one regular expression and slices.
 */
export function parseTraceparent(
  traceparent: string | undefined,
  tracestate?: string,
): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  if (!VERSION_00.test(traceparent)) {
    if (traceparent.startsWith('00-') || traceparent.startsWith('ff-') || !LATER_VERSION.test(traceparent))
      return undefined;
  }
  const traceId = traceparent.slice(3, 35);
  const spanId = traceparent.slice(36, 52);
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(traceparent.slice(53, 55), 16),
    isRemote: true,
  };
  if (tracestate !== undefined && tracestate !== '') spanContext.traceState = createTraceState(tracestate);
  return spanContext;
}

/** The W3C trace context of a span, as the CloudEvents distributed-tracing extension carries it. */
export interface TraceHeaders {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** Writes a span context as W3C `traceparent`/`tracestate`; `undefined` for an invalid (no-op) context. */
export function formatTraceparent(spanContext: SpanContext): TraceHeaders | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const tracestate = spanContext.traceState?.serialize();
  return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
}

/** The creation context an event carries (its `traceparent`/`tracestate`), if any. */
export function eventSpanContext(
  event: Pick<CloudEvent, 'traceparent' | 'tracestate'>,
): SpanContext | undefined {
  return parseTraceparent(event.traceparent, event.tracestate);
}

/** A context whose parent is `spanContext` (or the root context), ignoring whatever context is active. */
export function contextWithParent(spanContext: SpanContext | undefined): Context {
  return spanContext === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/**
 * The parent of a producer span: the active span if there is one (an HTTP request's, a handler's "process" span);
 * else the creation context of the event being handled (so a publish from a handler continues its trace even when
 * the router runs without the tracing middleware); else the active context (a new trace).
 */
export function producerParent(): Context {
  const active = otelContext.active();
  const span = trace.getSpan(active);
  if (span !== undefined && isSpanContextValid(span.spanContext())) return active;
  const handled = currentEvent();
  const fromEvent = handled === undefined ? undefined : eventSpanContext(handled);
  return fromEvent === undefined ? active : trace.setSpanContext(active, fromEvent);
}
