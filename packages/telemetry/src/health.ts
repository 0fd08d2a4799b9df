import { configError } from '@herald/core';

/**
 * One readiness check: resolves (to anything but `false`) when the dependency is usable, throws or resolves
 * `false` when it is not. Examples: `() => db.prepare('SELECT 1').get()`, `() => pool.query('SELECT 1')`,
 * `() => transport.consumerLag?.()`, `() => consumersRunning`.
 */
export type HealthCheck = () => unknown;

/** The result of one check. */
export interface CheckResult {
  readonly status: 'ok' | 'failed';
  readonly durationMs: number;
  /** Why it failed. */
  readonly error?: string;
}

/** A health report, as the `/health/*` endpoints answer it. */
export interface HealthReport {
  /** `ok` (HTTP 200) or `unavailable` (HTTP 503). */
  readonly status: 'ok' | 'unavailable';
  readonly service: string;
  readonly uptimeSeconds: number;
  /** Each readiness check (absent from liveness). */
  readonly checks?: Readonly<Record<string, CheckResult>>;
}

/** Options of {@link healthChecks}. */
export interface HealthOptions {
  readonly service: string;
  /**
   * What readiness needs, by name. For a Herald service: `database` (its database answers), `broker` (the transport
   * answers) and `consumers` (its router is started and not closed).
   */
  readonly checks: Readonly<Record<string, HealthCheck>>;
  /** A check still running after this long has failed, ms. Default 2000. */
  readonly timeoutMs?: number;
}

/** Liveness and readiness of a service, for `GET /health/live` and `GET /health/ready`. */
export interface Health {
  /**
   * Liveness: the process is up and its event loop turns (answering at all proves it). Always `ok`: no dependency
   * is checked, so a database outage makes the service unready, never restarted.
   */
  live(): HealthReport;
  /** Readiness: every check passes, run concurrently, each within the timeout. */
  ready(): Promise<HealthReport>;
}

/** The HTTP status of a report: 200 when `ok`, else 503. */
export function httpStatus(report: HealthReport): 200 | 503 {
  return report.status === 'ok' ? 200 : 503;
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      Promise.resolve().then(check),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const durationMs = performance.now() - start;
    return result === false
      ? { status: 'failed', durationMs, error: 'check returned false' }
      : { status: 'ok', durationMs };
  } catch (error) {
    return {
      status: 'failed',
      durationMs: performance.now() - start,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Health endpoints' semantics for a service: `live()` for `/health/live`, `ready()` for `/health/ready` (ready =
 * every named check passes: typically the database and the broker reachable and the consumers running). Serve
 * each report with {@link httpStatus}.
 */
export function healthChecks(options: HealthOptions): Health {
  const timeoutMs = options.timeoutMs ?? 2000;
  if (!(timeoutMs > 0)) throw configError('timeoutMs', 'a number > 0', timeoutMs);
  const entries = Object.entries(options.checks);
  const uptimeSeconds = (): number => Math.round(process.uptime());
  return {
    live: () => ({ status: 'ok', service: options.service, uptimeSeconds: uptimeSeconds() }),
    async ready() {
      const results = await Promise.all(
        entries.map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
      );
      const checks = Object.fromEntries(results);
      const ok = results.every(([, result]) => result.status === 'ok');
      return {
        status: ok ? 'ok' : 'unavailable',
        service: options.service,
        uptimeSeconds: uptimeSeconds(),
        checks,
      };
    },
  };
}
