import { join, resolve } from 'node:path';
import {
  context,
  diag,
  DiagConsoleLogger,
  propagation,
  trace,
  type TextMapPropagator,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  diagLogLevelFromString,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type BufferConfig,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { configError, ErrorCodes, HeraldError, tracingActive } from '@herald/core';
import {
  prometheusMetrics,
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
} from './prometheus-metrics.ts';
import { TraceStoreExporter } from './trace-store-exporter.ts';
import type { TraceRetention } from './trace-store.ts';

/** Where spans go: the names `OTEL_TRACES_EXPORTER` accepts. */
export type TraceExporterName = 'otlp' | 'console' | 'herald' | 'none';

/** Context propagators for HTTP headers: the names `OTEL_PROPAGATORS` accepts. */
export type PropagatorName = 'tracecontext' | 'baggage' | 'xray' | 'none';

const EXPORTERS: readonly TraceExporterName[] = ['otlp', 'console', 'herald', 'none'];
const PROPAGATORS: readonly PropagatorName[] = ['tracecontext', 'baggage', 'xray', 'none'];

/** The local trace store's file in a data folder. */
export const TRACE_STORE_FILE = 'traces.db';

/** Options of {@link setupTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` of every span (`OTEL_SERVICE_NAME` overrides it) and the `service` label of logs and metrics. */
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /** The environment to read `OTEL_*` and `HERALD_DATA_DIR` from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The folder of the local trace store (`traces.db`), used when no other exporter is configured. Default
   * `HERALD_DATA_DIR`, else `.data` in the working directory.
   */
  readonly dataDir?: string;
  /** Retention of the local trace store. */
  readonly traceRetention?: TraceRetention;
  /** Exporters to use instead of those the environment selects (tests pass an `InMemorySpanExporter`). */
  readonly spanExporters?: readonly SpanExporter[];
  /** Export each span as it ends (`SimpleSpanProcessor`) instead of in batches. For tests. Default `false`. */
  readonly exportEachSpan?: boolean;
  /** Batch processor tuning (the `OTEL_BSP_*` variables apply otherwise). */
  readonly batch?: BufferConfig;
  /** HTTP header propagators, replacing `OTEL_PROPAGATORS`. Default `tracecontext,baggage`. */
  readonly propagators?: readonly PropagatorName[];
  /** The sampler, replacing `OTEL_TRACES_SAMPLER`. Default: parent-based, always on. */
  readonly sampler?: Sampler;
  /** Prometheus metrics (registered with the core), or `false`. Default on, labelled with the service. */
  readonly metrics?: PrometheusMetricsOptions | false;
}

/** What {@link setupTelemetry} set up. */
export interface Telemetry {
  readonly serviceName: string;
  /** `undefined` when `OTEL_SDK_DISABLED=true`: no spans are recorded. */
  readonly tracerProvider: NodeTracerProvider | undefined;
  /** Where spans go, for the start-up log line (`otlp`, `herald:/path/traces.db`...). */
  readonly exporters: readonly string[];
  /** The propagators in use. */
  readonly propagators: readonly PropagatorName[];
  /** The service's metrics, to serve at `/metrics`; `undefined` with `metrics: false`. */
  readonly metrics: PrometheusMetrics | undefined;
  /** Exports the spans still buffered. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting, unregisters the SDK and the metrics from the OpenTelemetry API and the core. */
  shutdown(): Promise<void>;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

function choose<T extends string>(option: string, values: string[], accepted: readonly T[]): T[] {
  for (const value of values) {
    if (!(accepted as readonly string[]).includes(value))
      throw configError(option, `a comma-separated list of ${accepted.join(', ')}`, values.join(','));
  }
  return values as T[];
}

/**
 * Which exporters the environment selects: `OTEL_TRACES_EXPORTER` if set (`otlp`, `console`, `herald` for the local
 * store, `none`; several separated by commas); else `otlp` when an OTLP endpoint is set
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); else `herald`: with nothing configured,
 * traces are kept locally.
 */
export function tracesExportersFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): TraceExporterName[] {
  const named = list(env.OTEL_TRACES_EXPORTER);
  if (named.length > 0) return choose('OTEL_TRACES_EXPORTER', named, EXPORTERS);
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return ['otlp'];
  return ['herald'];
}

/** The propagators `OTEL_PROPAGATORS` selects (default `tracecontext,baggage`). */
export function propagatorsFromEnv(env: Readonly<Record<string, string | undefined>>): PropagatorName[] {
  const named = list(env.OTEL_PROPAGATORS);
  return named.length === 0 ? ['tracecontext', 'baggage'] : choose('OTEL_PROPAGATORS', named, PROPAGATORS);
}

function propagatorOf(names: readonly PropagatorName[]): TextMapPropagator {
  const propagators: TextMapPropagator[] = [];
  for (const name of names) {
    if (name === 'tracecontext') propagators.push(new W3CTraceContextPropagator());
    else if (name === 'baggage') propagators.push(new W3CBaggagePropagator());
    else if (name === 'xray') propagators.push(new AWSXRayPropagator());
  }
  return new CompositePropagator({ propagators });
}

/** The OTLP/HTTP traces URL from the environment (the exporter's own default when none is set). */
function otlpUrl(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol === 'grpc') {
    throw configError(
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'http/json or http/protobuf (sent as JSON over HTTP)',
      protocol,
    );
  }
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs, comma-separated, percent-encoded. */
function resourceAttributes(text: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      attributes[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(
        pair.slice(at + 1).trim(),
      );
    } catch {
      // A malformed pair is skipped, as the SDK's own detector does.
    }
  }
  return attributes;
}

/**
 * Sets up OpenTelemetry tracing and Prometheus metrics for one service process; call it first in `main`, before
 * creating transports and routers (routers turn their telemetry on when it is registered).
 *
 * - A `NodeTracerProvider` (resource `service.name`, plus `OTEL_RESOURCE_ATTRIBUTES`; sampler from
 *   `OTEL_TRACES_SAMPLER`, default parent-based always-on) with a `BatchSpanProcessor` per exporter, registered
 *   globally with the async-hooks context manager.
 * - Exporters from {@link tracesExportersFromEnv}: OTLP over HTTP when the `OTEL_*` variables say so; by default
 *   the local trace store `traces.db` in the data folder, shared by every service of the machine.
 * - HTTP propagators from `OTEL_PROPAGATORS` or `propagators` (`xray` for AWS X-Ray's header). Events always carry
 *   W3C `traceparent`, the CloudEvents distributed-tracing extension, whatever the HTTP propagator.
 * - `OTEL_SDK_DISABLED=true` records no spans (metrics stay).
 *
 * Throws `HERALD_CONFIG` for an unknown exporter or propagator name, and when telemetry is already set up in this
 * process (call `shutdown()` first).
 */
export function setupTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  if (typeof options.serviceName !== 'string' || options.serviceName === '')
    throw configError('serviceName', 'a non-empty service name', options.serviceName);
  if (tracingActive()) {
    throw new HeraldError(
      ErrorCodes.CONFIG,
      'OpenTelemetry tracing is already set up in this process; call shutdown() on the first setup before another',
    );
  }
  const serviceName = env.OTEL_SERVICE_NAME || options.serviceName;
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const propagatorNames = options.propagators ?? propagatorsFromEnv(env);
  choose('propagators', [...propagatorNames], PROPAGATORS);

  // The SDK's own problems (an unreachable OTLP endpoint, a full export queue) go to stderr at this level.
  const logLevel = diagLogLevelFromString(env.OTEL_LOG_LEVEL);
  if (logLevel !== undefined)
    diag.setLogger(new DiagConsoleLogger(), { logLevel, suppressOverrideMessage: true });

  let tracerProvider: NodeTracerProvider | undefined;
  const exporterNames: string[] = [];
  if (!disabled) {
    const exporters: SpanExporter[] = [];
    if (options.spanExporters !== undefined) {
      exporters.push(...options.spanExporters);
      exporterNames.push(...options.spanExporters.map((e) => e.constructor.name));
    } else {
      for (const name of tracesExportersFromEnv(env)) {
        if (name === 'otlp') {
          const url = otlpUrl(env);
          exporters.push(new OTLPTraceExporter(url === undefined ? {} : { url }));
          exporterNames.push(`otlp:${url ?? 'default'}`);
        } else if (name === 'console') {
          exporters.push(new ConsoleSpanExporter());
          exporterNames.push('console');
        } else if (name === 'herald') {
          const dataDir = resolve(options.dataDir ?? (env.HERALD_DATA_DIR || '.data'));
          const path = join(dataDir, TRACE_STORE_FILE);
          exporters.push(new TraceStoreExporter({ path, ...options.traceRetention }));
          exporterNames.push(`herald:${path}`);
        }
      }
    }
    const spanProcessors: SpanProcessor[] = exporters.map((exporter) =>
      options.exportEachSpan === true
        ? new SimpleSpanProcessor(exporter)
        : new BatchSpanProcessor(exporter, options.batch),
    );
    const resource = defaultResource()
      .merge(
        resourceFromAttributes({
          ...(options.serviceVersion === undefined ? {} : { [ATTR_SERVICE_VERSION]: options.serviceVersion }),
        }),
      )
      .merge(resourceFromAttributes(resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES)))
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }));
    tracerProvider = new NodeTracerProvider({
      resource,
      spanProcessors,
      ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
    });
    tracerProvider.register({ propagator: propagatorOf(propagatorNames) });
  }

  const metrics =
    options.metrics === false
      ? undefined
      : prometheusMetrics({ defaultLabels: { service: serviceName }, ...options.metrics });

  let shutdown: Promise<void> | undefined;
  return {
    serviceName,
    tracerProvider,
    exporters: exporterNames,
    propagators: propagatorNames,
    metrics,
    forceFlush: async () => {
      await tracerProvider?.forceFlush();
    },
    shutdown() {
      shutdown ??= (async () => {
        metrics?.close();
        try {
          await tracerProvider?.shutdown();
        } finally {
          if (tracerProvider !== undefined) {
            trace.disable();
            context.disable();
            propagation.disable();
          }
        }
      })();
      return shutdown;
    },
  };
}
