/**
 * Where the core writes the few log lines it has (a dead-lettered event, an event of a type with no handler).
 * The arguments come in pino's order, structured fields first, so a pino logger (or any logger with the same
 * `warn`/`error` signature: bunyan, a child logger) can be passed as is. Fields never include event data.
 */
export interface HeraldLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * A {@link HeraldLogger} writing to `console.warn`/`console.error` as `[herald] <name>: <message> <fields as
 * JSON>`: the router's default, so a dead letter is never silent even where no logger was configured.
 */
export function consoleHeraldLogger(name: string): HeraldLogger {
  const write = (print: (line: string) => void, fields: Record<string, unknown>, message: string): void =>
    print(`[herald] ${name}: ${message} ${JSON.stringify(fields)}`);
  return {
    warn: (fields, message) => write(console.warn, fields, message),
    error: (fields, message) => write(console.error, fields, message),
  };
}

/** A {@link HeraldLogger} that drops everything (tests, or a service that reads only the metrics). */
export const silentHeraldLogger: HeraldLogger = { warn: () => undefined, error: () => undefined };
