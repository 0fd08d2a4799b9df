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
 *
 * Once the services are ready it starts the web console (`@herald/console`) the same way, as one more supervised
 * child, on `HERALD_CONSOLE_PORT` (default 3100) and `HERALD_CONSOLE_HOST` (default 127.0.0.1), watching the four
 * services and the shop's contracts; `HERALD_CONSOLE=off` leaves it out. A child rather than a server in this
 * process: the supervisor stays a few lines of process management that nothing can block, and a console that
 * crashes is restarted without touching the shop. A non-loopback console host without `HERALD_CONSOLE_TOKEN` is
 * refused here, before anything starts.
 */
import { fileURLToPath } from 'node:url';
import { consoleConfigFromEnv } from '@herald/console';
import { redactUrl } from '@herald/core';
import { checkBrokerFromEnv, defaultBrokerUrl } from './broker.ts';
import { SERVICES } from './contracts/index.ts';
import { dataDir, portFrom } from './runtime/config.ts';
import { checkDatabaseUrl } from './runtime/database-url.ts';
import { consoleLogger } from './runtime/logger.ts';
import {
  positiveInteger,
  RestartPolicy,
  restartPolicyFrom,
  type RestartPolicyOptions,
} from './runtime/restart-policy.ts';
import {
  spawnService,
  type ChildName,
  type ServiceChild,
  type ServiceName,
} from './runtime/spawn-service.ts';

const log = consoleLogger('shop');
const STOP_TIMEOUT_MS = 20_000;
const PARENT_CHECK_MS = 500;

let ports: Record<ServiceName, number>;
let consolePort: number | undefined;
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
  const consoleWanted = process.env.HERALD_CONSOLE !== 'off';
  // Checked once here, so a console that would refuse to start (a public host without a token) stops the shop
  // before any service starts.
  if (consoleWanted) consolePort = consoleConfigFromEnv(env).port;
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
  readonly name: ChildName;
  readonly policy: RestartPolicy;
  /** The variable that carries its port (`PORT`, the console's `HERALD_CONSOLE_PORT`). */
  readonly portVariable?: string;
  /** Variables for this child only. */
  readonly env?: NodeJS.ProcessEnv;
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
    env: { ...env, ...service.env, [service.portVariable ?? 'PORT']: String(service.port) },
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

/** Starts the console once the services are ready, pointed at their URLs; resolves with its URL. */
async function launchConsole(urls: readonly string[], port: number): Promise<string> {
  const watched = services.map((service, i) => `${service.name}=${urls[i]}`).join(',');
  const supervised = launch({
    name: 'herald-console',
    port,
    portVariable: 'HERALD_CONSOLE_PORT',
    env: {
      HERALD_CONSOLE_SERVICES: process.env.HERALD_CONSOLE_SERVICES || watched,
      // Named, so that transports that cannot enumerate groups (RabbitMQ) show their dead letters too.
      HERALD_CONSOLE_GROUPS:
        process.env.HERALD_CONSOLE_GROUPS ||
        Object.values(SERVICES)
          .map((service) => service.group)
          .join(','),
      HERALD_CONSOLE_CONTRACTS:
        process.env.HERALD_CONSOLE_CONTRACTS ||
        fileURLToPath(new URL('./contracts/index.ts', import.meta.url)),
    },
    policy: new RestartPolicy(policy),
  });
  services.push(supervised);
  const url = await supervised.child.ready;
  supervised.port = Number(new URL(url).port);
  return url;
}

try {
  const urls = await Promise.all(services.map((service) => service.child.ready));
  services.forEach((service, i) => {
    service.port = Number(new URL(urls[i]!).port);
  });
  if (consolePort !== undefined) urls.push(await launchConsole(urls, consolePort));
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
      ...(consolePort === undefined ? [] : [`  console: open ${urls.at(-1)} in a browser`, '']),
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
