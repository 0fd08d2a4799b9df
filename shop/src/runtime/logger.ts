/** A small line logger: `time service level message {fields}`, readable when four services share a terminal. */
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

/** A logger writing to stdout/stderr. */
export function consoleLogger(service: string): Logger {
  return {
    info: (message, fields) => console.log(line(service, 'info', message, fields)),
    warn: (message, fields) => console.warn(line(service, 'warn', message, fields)),
    error: (message, fields) => console.error(line(service, 'error', message, fields)),
  };
}

/** A logger that drops everything (unit tests). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
