import { loggerFor } from '@herald/telemetry';

/** The shop's logger interface: a message and structured fields. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(service: string, level: string, message: string, fields?: Record<string, unknown>): string {
  const time = new Date().toISOString().slice(11, 23);
  const extra =
    fields === undefined
      ? ''
      : ` ${JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`;
  return `${time} ${service.padEnd(20)} ${level.padEnd(5)} ${message}${extra}`;
}

/** A line logger (`time service level message {fields}`) writing to stdout/stderr: `npm start` itself. */
export function consoleLogger(service: string): Logger {
  return {
    info: (message, fields) => console.log(line(service, 'info', message, fields)),
    warn: (message, fields) => console.warn(line(service, 'warn', message, fields)),
    error: (message, fields) => console.error(line(service, 'error', message, fields)),
  };
}

/**
 * A service process's logger: pino (`loggerFor`), one JSON object per line on stdout with `service`, `trace_id`,
 * `span_id`, `event_id`, `event_type` and `correlation_id` taken from where the line is written, so the lines of one
 * order join across services; pretty-printed when stdout is a terminal. `LOG_LEVEL` sets the minimum level.
 */
export function serviceLogger(service: string): Logger {
  const pino = loggerFor({ service });
  return {
    info: (message, fields) => pino.info(fields ?? {}, message),
    warn: (message, fields) => pino.warn(fields ?? {}, message),
    error: (message, fields) => pino.error(fields ?? {}, message),
  };
}

/** A logger that drops everything (unit tests). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
