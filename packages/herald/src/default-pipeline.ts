import type { Middleware } from './middleware.ts';
import { deadLetter } from './middleware/dead-letter.ts';
import { redelivery, type RedeliveryOptions } from './middleware/redelivery.ts';
import { retry, type RetryOptions } from './middleware/retry.ts';
import { validation } from './middleware/validation.ts';
import { messagingMetrics } from './metrics/messaging-metrics.ts';
import { metrics } from './metrics/metrics-middleware.ts';
import { observeHandler } from './tracing/delivery-observer.ts';
import { tracingActive } from './tracing/trace-context.ts';
import { tracing } from './tracing/tracing-middleware.ts';

/** Options of {@link defaultPipeline}. */
export interface DefaultPipelineOptions {
  /** The transport's name, for the spans (`messaging.system`). */
  readonly transport: string;
  /** Immediate retries, or `false` for none. */
  readonly retry?: RetryOptions | false | undefined;
  /** Delayed redeliveries, or `false` for none (failures then go straight to the dead-letter queue). */
  readonly redelivery?: RedeliveryOptions | false | undefined;
  /** Middleware placed between the failure handling (outside) and validation (inside), outermost first. */
  readonly middleware?: readonly Middleware[] | undefined;
  /**
   * Traces and counts deliveries. Default: on if an OpenTelemetry SDK or Herald messaging metrics are registered
   * when the pipeline is built.
   */
  readonly telemetry?: boolean | undefined;
}

/**
 * The router's default middleware chain, outermost first: `tracing()` and `metrics()` (when telemetry is on:
 * outside the failure handling, so they see redeliveries and dead letters), `deadLetter()`, `redelivery()`,
 * `retry()`, `observeHandler()` (telemetry; inside `retry`, so it sees each handler call), the caller's
 * `middleware`, then `validation()`. Every failure ends settled: retried, redelivered later, or dead-lettered, so
 * it needs a transport with a dead-letter queue. Start from it to build a variant (`createRouter({ pipeline })`).
 */
export function defaultPipeline(options: DefaultPipelineOptions): Middleware[] {
  const telemetry = options.telemetry ?? (tracingActive() || messagingMetrics() !== undefined);
  return [
    ...(telemetry ? [tracing({ transport: options.transport }), metrics()] : []),
    deadLetter(),
    ...(options.redelivery === false ? [] : [redelivery(options.redelivery)]),
    ...(options.retry === false ? [] : [retry(options.retry)]),
    ...(telemetry ? [observeHandler()] : []),
    ...(options.middleware ?? []),
    validation(),
  ];
}
