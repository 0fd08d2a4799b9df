import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';
import type pinoPretty from 'pino-pretty';
import { createRequire } from 'node:module';
import { configError, currentEvent, eventSpanContext } from '@herald/core';

/** The fields a log line gets from where it is written: the active span and the event being handled. */
export interface LogContext {
  /** W3C trace id (32 hex digits): of the active span, else of the event being handled. */
  trace_id?: string;
  /** Id of the active span. */
  span_id?: string;
  /** W3C trace flags of the active span (`01` = sampled). */
  trace_flags?: string;
  event_id?: string;
  event_type?: string;
  /** The business flow (one order): the event's `correlationid`, else its id. */
  correlation_id?: string;
  causation_id?: string;
}

/**
 * The trace and event fields of a log line written now. Reads the active OpenTelemetry span and the event being
 * handled (core's `currentEvent()`); without an SDK, the trace id comes from the handled event's `traceparent`, so
 * logs of one order still join across services.
 */
export function logContext(): LogContext {
  const fields: LogContext = {};
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (spanContext !== undefined && isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
    fields.trace_flags = `0${(spanContext.traceFlags & 0xff).toString(16)}`.slice(-2);
  }
  const event = currentEvent();
  if (event !== undefined) {
    if (fields.trace_id === undefined) {
      const fromEvent = eventSpanContext(event);
      if (fromEvent !== undefined) fields.trace_id = fromEvent.traceId;
    }
    fields.event_id = event.id;
    fields.event_type = event.type;
    fields.correlation_id = event.correlationid ?? event.id;
    if (event.causationid !== undefined) fields.causation_id = event.causationid;
  }
  return fields;
}

/** Options of {@link loggerFor}. */
export interface LoggerOptions {
  /** The service name, in every line as `service`. */
  readonly service: string;
  /** The minimum level. Default `LOG_LEVEL` from the environment, else `info`. */
  readonly level?: string;
  /** Human-readable lines (pino-pretty) instead of JSON. Default: when stdout is a terminal. */
  readonly pretty?: boolean;
  /** Where JSON lines go. Default stdout. */
  readonly destination?: DestinationStream;
  /** Fields of every line besides `service`. */
  readonly base?: Readonly<Record<string, unknown>>;
}

const require = createRequire(import.meta.url);

/**
 * pino-pretty, an optional peer dependency: loaded only when pretty output may be used. Missing, it is an error when
 * asked for explicitly (`pretty: true`) and JSON lines otherwise.
 */
function loadPretty(required: boolean): typeof pinoPretty | undefined {
  try {
    return require('pino-pretty') as typeof pinoPretty;
  } catch (error) {
    if (required) throw configError('pretty', 'pino-pretty installed (an optional peer dependency)', true);
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * A pino logger for a service: one JSON object per line with `time` (ISO), `level` (its name), `service`, `msg`,
 * and, from where the line is written, `trace_id`, `span_id`, `event_id`, `event_type`, `correlation_id`,
 * `causation_id` ({@link logContext}), so the lines of one order join by trace or correlation id across services.
 * In a terminal the lines are pretty-printed (pino-pretty) instead.
 */
export function loggerFor(options: LoggerOptions | string): Logger {
  const { service, level, destination, base, ...rest } =
    typeof options === 'string' ? { service: options } : options;
  const minLevel = level ?? process.env.LOG_LEVEL ?? 'info';
  if (!LEVELS.has(minLevel)) throw configError('level', [...LEVELS].join(', '), minLevel);
  const wantPretty = rest.pretty ?? (destination === undefined && process.stdout.isTTY);
  const pretty = wantPretty ? loadPretty(rest.pretty === true) : undefined;
  const usePretty = pretty !== undefined;
  const stream: DestinationStream | undefined = usePretty
    ? pretty({
        colorize: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,trace_flags',
        messageFormat: '{service} {msg}',
        ...(destination === undefined ? {} : { destination: destination as NodeJS.WritableStream }),
      })
    : destination;
  return pino(
    {
      level: minLevel,
      base: { service, ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors under `error` (as services log them) keep their type, message and stack, like pino's `err`.
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      // Level names are easier to filter on than pino's numbers; pino-pretty reads the numbers.
      ...(usePretty ? {} : { formatters: { level: (label: string) => ({ level: label }) } }),
      mixin: () => logContext(),
    },
    stream,
  );
}
