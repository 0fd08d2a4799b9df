import { diag } from '@opentelemetry/api';

/**
 * Runs an observer's call (a logger, a metric, a span event) so that it can never fail a delivery: its error is
 * reported to OpenTelemetry's diagnostic log and swallowed.
 */
export function safely(call: () => void): void {
  try {
    call();
  } catch (error) {
    diag.error('herald: a delivery observer failed', error);
  }
}
