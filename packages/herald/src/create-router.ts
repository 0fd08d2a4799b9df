import { defaultPipeline } from './default-pipeline.ts';
import { ErrorCodes, HeraldError } from './errors.ts';
import type { Middleware } from './middleware.ts';
import type { RedeliveryOptions } from './middleware/redelivery.ts';
import type { RetryOptions } from './middleware/retry.ts';
import { messagingMetrics } from './metrics/messaging-metrics.ts';
import { createPipelineRouter, type PipelineRouterOptions, type Router } from './router.ts';

/** Options of {@link createRouter}. */
export interface RouterOptions extends Omit<PipelineRouterOptions, 'pipeline' | 'outcomes'> {
  /** Immediate retries, or `false` for none. */
  readonly retry?: RetryOptions | false;
  /** Delayed redeliveries, or `false` for none (failures then go straight to the dead-letter queue). */
  readonly redelivery?: RedeliveryOptions | false;
  /** Middleware placed between the failure handling (outside) and validation (inside), outermost first. */
  readonly middleware?: readonly Middleware[];
  /**
   * Traces and counts deliveries: `tracing()` and `metrics()` go first in the default chain (outside the failure
   * handling, so they see redeliveries and dead letters) and `observeHandler()` inside `retry` (so they see each
   * handler call). Default: on if an OpenTelemetry SDK or Herald messaging metrics are registered when the router
   * is created (`setupTelemetry` from `@herald/telemetry` registers both), so a service without them pays nothing.
   */
  readonly telemetry?: boolean;
  /**
   * Replaces the whole default chain ({@link defaultPipeline}: telemetry, dead-letter, redelivery, retry,
   * `middleware`, validation). For tools that need a different order; the router still decodes, dispatches and
   * acks.
   */
  readonly pipeline?: readonly Middleware[];
}

/**
 * Creates a {@link Router} with the default chain ({@link defaultPipeline}) unless `options.pipeline` replaces
 * it, reporting every dead letter and skipped event to the registered messaging metrics. Options are checked at
 * once; a bad one throws `HERALD_CONFIG`, and a transport without a dead-letter queue `HERALD_UNSUPPORTED` unless
 * a `pipeline` is given.
 */
export function createRouter(options: RouterOptions): Router {
  const { transport } = options;
  if (!transport.capabilities.deadLetterQueue && options.pipeline === undefined) {
    throw new HeraldError(
      ErrorCodes.UNSUPPORTED,
      `Transport "${transport.name}" has no dead-letter queue; pass a "pipeline" that handles failures`,
    );
  }
  const { retry, redelivery, middleware, telemetry, pipeline, ...rest } = options;
  return createPipelineRouter({
    ...rest,
    pipeline:
      pipeline ?? defaultPipeline({ transport: transport.name, retry, redelivery, middleware, telemetry }),
    // Looked up at each outcome: metrics registered after the router was created still count.
    outcomes: {
      deadLettered: (labels, reason) => messagingMetrics()?.deadLettered(labels, reason),
      skipped: (labels, reason) => messagingMetrics()?.skipped(labels, reason),
    },
  });
}
