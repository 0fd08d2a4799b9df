/** The labels of a delivery's metrics. */
export interface DeliveryLabels {
  readonly topic: string;
  /** The CloudEvents `type`. */
  readonly type: string;
  /** The consumer group. */
  readonly group: string;
}

/**
 * What Herald reports to a metrics backend. The core calls it from the publish path (direct publishes and outbox
 * relays) and from the `metrics()` middleware; `@herald/telemetry` implements it with prom-client. Calls are
 * synchronous and must be cheap: they run on the hot path.
 */
export interface MessagingMetrics {
  /** `count` records of `type` were acknowledged by a transport on `topic`. */
  published(topic: string, type: string, count: number): void;
  /** A delivery was handled: the handler resolved (after immediate retries, if any) and the event is acked. */
  processed(labels: DeliveryLabels): void;
  /** A delivery's handling failed: it was handed back for redelivery or dead-lettered. */
  failed(labels: DeliveryLabels, errorType: string): void;
  /** An immediate retry started, or a delayed redelivery was scheduled. */
  retried(labels: DeliveryLabels, kind: 'immediate' | 'redelivery'): void;
  /**
   * A delivery was moved to the group's dead-letter queue, for `reason` (`max-attempts`, `validation`,
   * `permanent-error`, `decode`). The router reports every dead letter, whatever its pipeline; for a record that
   * could not be decoded, `type` is its `type` attribute, or `unknown`.
   */
  deadLettered(labels: DeliveryLabels, reason: string): void;
  /** A delivery was acknowledged without being handled, for `reason` (`unknown-type`: no handler for its type). */
  skipped(labels: DeliveryLabels, reason: string): void;
  /** One handler call took `seconds`; `errorType` is set when it threw. */
  handlerDuration(labels: DeliveryLabels, seconds: number, errorType: string | undefined): void;
}

let registered: MessagingMetrics | undefined;

/**
 * Registers the process's metrics backend (one at a time; a new one replaces the previous). Returns the function
 * that unregisters it. Register before creating routers: a router turns telemetry on by default only if a backend
 * or an OpenTelemetry SDK is registered when it is created.
 */
export function registerMessagingMetrics(metrics: MessagingMetrics): () => void {
  registered = metrics;
  return () => {
    if (registered === metrics) registered = undefined;
  };
}

/** The registered metrics backend, if any. */
export function messagingMetrics(): MessagingMetrics | undefined {
  return registered;
}
