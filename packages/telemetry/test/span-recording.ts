import { after, before } from 'node:test';
import { InMemorySpanExporter, setupTelemetry, type Telemetry } from '@herald/telemetry';

/** The telemetry of a test file set up by {@link recordSpans}. */
export interface SpanRecording {
  /** Holds every finished span, exported as each one ends. */
  readonly exporter: InMemorySpanExporter;
  /** Shuts the SDK down before the file ends, for the cases of what happens without one. */
  readonly shutdown: () => Promise<void>;
}

/**
 * Sets telemetry up before the test file's tests, as `serviceName`, exporting each span at once into an
 * in-memory exporter and with metrics off, and shuts it down after them.
 */
export function recordSpans(serviceName: string): SpanRecording {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry | undefined;
  before(() => {
    telemetry = setupTelemetry({
      serviceName,
      spanExporters: [exporter],
      exportEachSpan: true,
      metrics: false,
    });
  });
  const shutdown = async (): Promise<void> => {
    await telemetry?.shutdown();
  };
  after(shutdown);
  return { exporter, shutdown };
}
