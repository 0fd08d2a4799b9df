/**
 * `npm start`: runs the four shop services as child processes on the embedded broker (or `HERALD_BROKER`), with
 * their state in the data folder (or in PostgreSQL with `DATABASE_URL`), prints their URLs and pids, and
 * supervises them: a service that crashes after start-up is restarted with exponential backoff
 * (`restart-policy.ts`); one that crashes `HERALD_RESTART_LIMIT` times within `HERALD_RESTART_WINDOW_MS` stops the
 * shop (exit 1). SIGINT, SIGTERM or SIGHUP stops them all gracefully (SIGTERM, then SIGKILL after 20 s), and so
 * does this process's parent going away (npm killed): the shop never outlives it. If this process itself is
 * SIGKILLed, each service sees its IPC channel close and stops. Ports: `PORT` (order, default 3000), then
 * `PAYMENT_PORT`, `INVENTORY_PORT`, `NOTIFICATION_PORT` (default 3001-3003); a restarted service gets the port it
 * had, so the printed URLs stay valid.
 */
import { redactUrl } from '@herald/core';
import { checkBrokerFromEnv, defaultBrokerUrl } from './broker.ts';
import { dataDir, portFrom } from './runtime/config.ts';
import { checkDatabaseUrl } from './runtime/database-url.ts';
import { consoleLogger } from './runtime/logger.ts';
import {
  positiveInteger,
  RestartPolicy,
  restartPolicyFrom,
  type RestartPolicyOptions,
} from './runtime/restart-policy.ts';
import { spawnService, type ServiceChild, type ServiceName } from './runtime/spawn-service.ts';

const log = consoleLogger('shop');
const STOP_TIMEOUT_MS = 20_000;
const PARENT_CHECK_MS = 500;

let ports: Record<ServiceName, number>;
let policy: RestartPolicyOptions;
let readyTimeoutMs: number;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  HERALD_DATA_DIR: dataDir(),
  HERALD_BROKER: process.env.HERALD_BROKER || defaultBrokerUrl(),
};

try {
  ports = {
    'order-service': portFrom(process.env, 'PORT', 3000),
    'payment-service': portFrom(process.env, 'PAYMENT_PORT', 3001),
    'inventory-service': portFrom(process.env, 'INVENTORY_PORT', 3002),
    'notification-service': portFrom(process.env, 'NOTIFICATION_PORT', 3003),
  };
  policy = restartPolicyFrom(process.env);
  readyTimeoutMs = positiveInteger(process.env, 'HERALD_READY_TIMEOUT_MS', 60_000);
  // Checked once here, so a bad URL is one clear message instead of four failed services.
  checkDatabaseUrl(env);
  await checkBrokerFromEnv(env);
} catch (error) {
  log.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

/** One supervised service: its current process, when that started, and its crash history. */
interface Supervised {
  readonly name: ServiceName;
  readonly policy: RestartPolicy;
  port: number;
  child: ServiceChild;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
}

let stopping = false;
let up = false;

function describeExit(how: number | NodeJS.Signals): string {
  return typeof how === 'string' ? `signal ${how}` : `code ${how}`;
}

function launch(service: Omit<Supervised, 'child' | 'startedAt'> & Partial<Supervised>): Supervised {
  const supervised = service as Supervised;
  supervised.child = spawnService(service.name, {
    env: { ...env, PORT: String(service.port) },
    readyTimeoutMs,
  });
  supervised.startedAt = Date.now();
  const child = supervised.child;
  // A restarted service that never becomes ready is killed, and counts as a crash.
  if (up) {
    child.ready.then(
      (url) => log.info(`${service.name} is back at ${url} (pid ${child.process.pid})`),
      (error: unknown) => {
        if (stopping) return;
        log.error(error instanceof Error ? error.message : String(error));
        child.process.kill('SIGKILL');
      },
    );
  }
  void child.exited.then((how) => {
    if (stopping) return;
    if (!up) {
      void stopAll(`${service.name} exited during start-up (${describeExit(how)})`, 1);
      return;
    }
    const decision = supervised.policy.crashed(Date.now(), supervised.startedAt);
    if (decision.action === 'give-up') {
      void stopAll(
        `${service.name} exited with ${describeExit(how)}, its ${decision.crashes}th crash within ` +
          `${decision.windowMs} ms (HERALD_RESTART_LIMIT); giving up`,
        1,
      );
      return;
    }
    log.warn(
      `${service.name} exited with ${describeExit(how)}; restarting in ${decision.delayMs} ms ` +
        `(restart ${decision.restart})`,
    );
    supervised.restartTimer = setTimeout(() => {
      supervised.restartTimer = undefined;
      if (!stopping) launch(supervised);
    }, decision.delayMs);
  });
  return supervised;
}

log.info('starting', {
  pid: process.pid,
  dataDir: env.HERALD_DATA_DIR,
  broker: redactUrl(env.HERALD_BROKER!),
  ...(env.HERALD_TOPIC_PREFIX ? { topicPrefix: env.HERALD_TOPIC_PREFIX } : {}),
  ...(env.DATABASE_URL ? { database: redactUrl(env.DATABASE_URL) } : {}),
});
const services: Supervised[] = (Object.keys(ports) as ServiceName[]).map((name) =>
  launch({ name, port: ports[name], policy: new RestartPolicy(policy) }),
);

async function stopAll(why: string, exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    if (exitCode === 0) log.info(`stopping all services (${why})`);
    else log.error(`stopping all services (${why})`);
    for (const service of services) clearTimeout(service.restartTimer);
    const children = services.map((service) => service.child);
    const timer = setTimeout(() => {
      log.error(`services still running after ${STOP_TIMEOUT_MS} ms; killing them`);
      for (const child of children) child.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    for (const child of children)
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
    const results = await Promise.all(children.map((child) => child.exited));
    clearTimeout(timer);
    const failed = results.some((result) => result !== 0);
    log.info(failed ? 'stopped (some services did not exit cleanly)' : 'stopped');
    process.exit(failed ? 1 : exitCode);
  }
  return new Promise<never>(() => undefined);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => void stopAll(signal, 0));
// npm forwards SIGINT/SIGTERM to us, but when npm itself is killed (SIGKILL, SIGHUP) we are reparented: stop.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void stopAll(`parent process ${parentPid} is gone`, 0);
}, PARENT_CHECK_MS).unref();

try {
  const urls = await Promise.all(services.map((service) => service.child.ready));
  services.forEach((service, i) => {
    service.port = Number(new URL(urls[i]!).port);
  });
  up = true;
  const lines = services.map(
    (service, i) => `  ${service.name.padEnd(22)} ${urls[i]}  (pid ${service.child.process.pid})`,
  );
  console.log(
    [
      '',
      `Herald shop is running (supervisor pid ${process.pid}):`,
      ...lines,
      '',
      `  try: curl ${urls[0]}/products`,
      `       curl -X POST ${urls[0]}/orders -H 'content-type: application/json' \\`,
      `            -d '{"userId":"ada","items":[{"sku":"KB-101","quantity":1}]}'`,
      '',
      'Ctrl-C stops all services; a crashed service is restarted.',
      '',
    ].join('\n'),
  );
} catch (error) {
  if (!stopping) {
    log.error('a service failed to start', { error });
    await stopAll('start-up failed', 1);
  }
}
