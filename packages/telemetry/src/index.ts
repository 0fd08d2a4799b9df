export * from './setup-telemetry.ts';
export * from './trace-store.ts';
export * from './trace-store-exporter.ts';
export * from './prometheus-metrics.ts';
export * from './logger.ts';
export * from './health.ts';
export * from './http-tracing.ts';
export { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
