/**
 * `npm start`: runs the four shop services as child processes on the embedded broker (or `HERALD_BROKER`), with
 * their state in the data folder (or in PostgreSQL with `DATABASE_URL`), prints their URLs, and stops them all
 * cleanly on Ctrl-C or SIGTERM. Ports: `PORT` (order, default 3000), then `PAYMENT_PORT`, `INVENTORY_PORT`,
 * `NOTIFICATION_PORT` (default 3001-3003).
 */
import { redactUrl } from '@herald/core';
import { checkBrokerFromEnv, defaultBrokerUrl } from './broker.ts';
import { dataDir, portFrom } from './runtime/config.ts';
import { consoleLogger } from './runtime/logger.ts';
import { spawnService, type ServiceChild, type ServiceName } from './runtime/spawn-service.ts';

const log = consoleLogger('shop');
const STOP_TIMEOUT_MS = 20_000;

const ports: Record<ServiceName, number> = {
  'order-service': portFrom(process.env, 'PORT', 3000),
  'payment-service': portFrom(process.env, 'PAYMENT_PORT', 3001),
  'inventory-service': portFrom(process.env, 'INVENTORY_PORT', 3002),
  'notification-service': portFrom(process.env, 'NOTIFICATION_PORT', 3003),
};

const env: NodeJS.ProcessEnv = {
  ...process.env,
  HERALD_DATA_DIR: dataDir(),
  HERALD_BROKER: process.env.HERALD_BROKER || defaultBrokerUrl(),
};

try {
  // Checked once here, so a bad URL is one clear message instead of four failed services.
  await checkBrokerFromEnv(env);
} catch (error) {
  log.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}

log.info('starting', {
  dataDir: env.HERALD_DATA_DIR,
  broker: redactUrl(env.HERALD_BROKER!),
  ...(env.HERALD_TOPIC_PREFIX ? { topicPrefix: env.HERALD_TOPIC_PREFIX } : {}),
  ...(env.DATABASE_URL ? { database: redactUrl(env.DATABASE_URL) } : {}),
});
const children: ServiceChild[] = (Object.keys(ports) as ServiceName[]).map((name) =>
  spawnService(name, { env: { ...env, PORT: String(ports[name]) } }),
);
let stopping = false;

async function stopAll(why: string, exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    log.info(`stopping all services (${why})`);
    const timer = setTimeout(() => {
      log.error(`services still running after ${STOP_TIMEOUT_MS} ms; killing them`);
      for (const child of children) child.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGTERM');
    const results = await Promise.all(children.map((child) => child.exited));
    clearTimeout(timer);
    const failed = results.some((result) => result !== 0);
    log.info(failed ? 'stopped (some services did not exit cleanly)' : 'stopped');
    process.exit(failed ? 1 : exitCode);
  }
  return new Promise<never>(() => undefined);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stopAll(signal, 0));
for (const child of children) {
  void child.exited.then((how) => {
    if (!stopping) void stopAll(`${child.name} exited unexpectedly (${how})`, 1);
  });
}

try {
  const urls = await Promise.all(children.map((child) => child.ready));
  const lines = children.map((child, i) => `  ${child.name.padEnd(22)} ${urls[i]}`);
  console.log(
    [
      '',
      'Herald shop is running:',
      ...lines,
      '',
      `  try: curl ${urls[0]}/products`,
      `       curl -X POST ${urls[0]}/orders -H 'content-type: application/json' \\`,
      `            -d '{"userId":"ada","items":[{"sku":"KB-101","quantity":1}]}'`,
      '',
      'Ctrl-C stops all services.',
      '',
    ].join('\n'),
  );
} catch (error) {
  log.error('a service failed to start', { error });
  await stopAll('start-up failed', 1);
}
