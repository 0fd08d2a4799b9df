/**
 * Restarting the shared local servers the end-to-end tests use (see `scripts/services.sh`): Kafka, NATS,
 * RabbitMQ and PostgreSQL. Each restart stops the server, keeps it down for the time asked, and always starts it
 * again (in a `finally`, even when the stop failed half-way), then waits until a client can really use it. Only
 * for the `*.exclusive.e2e.test.ts` files, which `scripts/test.mjs` runs alone: other tests would see the server
 * go away.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'node:net';
import { Admin } from '@platformatic/kafka';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import amqp from 'amqplib';
import pg from 'pg';
import { REPO_ROOT } from '../../src/runtime/config.ts';
import { KAFKA_BROKERS, NATS_URL, RABBITMQ_URL } from './engines.ts';
import { ADMIN_DATABASE_URL } from './state.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When one restart stopped the server, started it again, and found it usable (epoch ms). */
export interface RestartTimes {
  readonly stoppedAt: number;
  readonly startedAt: number;
  readonly servingAt: number;
}

/** How a test restarts one shared server. */
export interface ServerRestart {
  /** The server, as figures name it. */
  readonly server: 'kafka' | 'nats' | 'rabbitmq' | 'postgresql';
  /** How it is restarted, in a few words (for the figures). */
  readonly how: string;
  /** Set when this is not the server's usual restart: the figures file's name ends with it. */
  readonly variant?: string;
  /**
   * Stops the server, waits `downMs`, starts it again and resolves once a client connects and works. The
   * start runs in a `finally`: the server comes back even when stopping it failed.
   */
  restart(downMs: number): Promise<RestartTimes>;
}

/**
 * The environment for `broker.sh`: with `HERALD_KAFKA_HOME` set to the run directory of the broker serving
 * `KAFKA_BROKERS[0]` when another checkout's script started it (its command line names its
 * `<home>/run/server.properties`), so a test in a fresh clone restarts the broker that is actually running.
 */
function kafkaEnv(): NodeJS.ProcessEnv {
  if (process.env.HERALD_KAFKA_HOME !== undefined) return process.env;
  try {
    const port = KAFKA_BROKERS[0]!.split(':')[1]!;
    const listening = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(listening)?.[1];
    if (pid === undefined) return process.env;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const properties = args.find((arg) => arg.endsWith('/run/server.properties'));
    return properties === undefined
      ? process.env
      : { ...process.env, HERALD_KAFKA_HOME: dirname(dirname(properties)) };
  } catch {
    return process.env;
  }
}

/** Whether something accepts TCP connections on `host:port` now. */
function portOpen(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: Number(port) });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `usable` until it resolves true, for at most `timeoutMs`; throws with the last error otherwise. */
async function waitUsable(what: string, usable: () => Promise<unknown>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await usable();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${what} not usable ${timeoutMs} ms after its restart`, { cause: error });
    }
    await sleep(250);
  }
}

/** Stop, down time, start in a finally, then the usability probe: the shape of every restart here. */
async function restartWith(
  stop: () => Promise<unknown>,
  start: () => Promise<unknown>,
  probe: () => Promise<void>,
  downMs: number,
): Promise<RestartTimes> {
  const stoppedAt = Date.now();
  let startedAt: number;
  try {
    await stop();
    await sleep(downMs);
  } finally {
    startedAt = Date.now();
    await start();
  }
  await probe();
  return { stoppedAt, startedAt, servingAt: Date.now() };
}

const KAFKA_SCRIPT = join(REPO_ROOT, 'scripts', 'kafka', 'broker.sh');

/**
 * The Kafka broker of `scripts/kafka/broker.sh`: `stop` (SIGTERM, clean shutdown), then `resume`, which starts
 * the same broker on its existing log dir (records and committed offsets kept; `start` would format a new one).
 * Usable once the admin client lists topics.
 */
export const kafkaRestart: ServerRestart = {
  server: 'kafka',
  how: 'broker.sh stop, then resume on the same log dir',
  restart: (downMs) => {
    // Read before the stop: afterwards nothing serves the port to read it from.
    const env = kafkaEnv();
    return restartWith(
      async () => {
        await run('bash', [KAFKA_SCRIPT, 'stop'], { timeout: 90_000, env });
        // A broker this checkout's script did not start (another checkout's, a system one) is still serving:
        // restarting it is not ours to do, and a test that thought it had would prove nothing.
        if (await portOpen(KAFKA_BROKERS[0]!))
          throw new Error(
            `Kafka at ${KAFKA_BROKERS[0]} still serves after \`broker.sh stop\`: it was not started by ${KAFKA_SCRIPT} ` +
              '(set HERALD_KAFKA_HOME to the run directory of the one that started it)',
          );
      },
      () => run('bash', [KAFKA_SCRIPT, 'resume'], { timeout: 150_000, env }),
      () =>
        waitUsable('Kafka', async () => {
          const admin = new Admin({ clientId: 'shop-e2e-restart-probe', bootstrapBrokers: KAFKA_BROKERS });
          try {
            await admin.listTopics();
          } finally {
            await admin.close();
          }
        }),
      downMs,
    );
  },
};

/** The command line `scripts/services.sh` starts NATS with (JetStream's store in `/var/lib/nats-server`). */
const NATS_ARGS = [
  '-a',
  '127.0.0.1',
  '-p',
  '4222',
  '-js',
  '-sd',
  '/var/lib/nats-server',
  '-l',
  '/var/log/nats-server.log',
];
const NATS_BINARY = '/usr/sbin/nats-server';

/** The pid of the NATS server started with {@link NATS_ARGS}, if it runs. */
async function natsPid(): Promise<number | undefined> {
  const { stdout } = await run('pgrep', ['-f', '-x', `${NATS_BINARY} ${NATS_ARGS.join(' ')}`]).catch(() => ({
    stdout: '',
  }));
  const pid = Number(stdout.trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The NATS server of `scripts/services.sh`: SIGTERM to its pid, wait for it to exit, start it again with the
 * same command line (the JetStream store persists on disk). Usable once a client reaches JetStream.
 */
export const natsRestart: ServerRestart = {
  server: 'nats',
  how: 'SIGTERM, then the same command line (JetStream store on disk)',
  restart: (downMs) =>
    restartWith(
      async () => {
        const pid = await natsPid();
        if (pid === undefined) throw new Error(`no ${NATS_BINARY} ${NATS_ARGS.join(' ')} running`);
        process.kill(pid, 'SIGTERM');
        const deadline = Date.now() + 30_000;
        while ((await natsPid()) === pid && Date.now() < deadline) await sleep(100);
      },
      async () => {
        if ((await natsPid()) !== undefined) return;
        await run('start-stop-daemon', [
          '--start',
          '--oknodo',
          '--background',
          '--exec',
          NATS_BINARY,
          '--',
          ...NATS_ARGS,
        ]);
      },
      () =>
        waitUsable('NATS', async () => {
          const nc = await natsConnect({ servers: NATS_URL, timeout: 2000, maxReconnectAttempts: 0 });
          try {
            await (await jetstreamManager(nc)).getAccountInfo();
          } finally {
            await nc.close();
          }
        }),
      downMs,
    ),
};

/** Resolves once an AMQP connection opens and a channel works: the port alone can be open long before that. */
async function amqpUsable(): Promise<void> {
  const connection = await amqp.connect(RABBITMQ_URL, { timeout: 5000 });
  try {
    await (await connection.createChannel()).close();
  } finally {
    await connection.close();
  }
}

/**
 * RabbitMQ 3.10: `rabbitmqctl stop_app` / `start_app`, the default. The Erlang node stays up, the RabbitMQ
 * application stops: every connection is dropped, the port closes, and the durable quorum queues and their
 * messages are kept. Usable once an AMQP connection opens a channel (the port alone opens earlier).
 */
export const rabbitmqAppRestart: ServerRestart = {
  server: 'rabbitmq',
  how: 'rabbitmqctl stop_app, then start_app (node up, queues kept)',
  restart: (downMs) =>
    restartWith(
      () => run('rabbitmqctl', ['stop_app'], { timeout: 120_000 }),
      () => run('rabbitmqctl', ['start_app'], { timeout: 180_000 }),
      () => waitUsable('RabbitMQ', amqpUsable),
      downMs,
    ),
};

/**
 * `rabbitmq-server -detached` as the `rabbitmq` user with 20,000 file descriptors. Not through the
 * `/usr/sbin/rabbitmq-server` wrapper: it switches user with `su`, whose `pam_limits` puts the soft limit back
 * to 1,024 (what a node started by `scripts/services.sh` has), too few for hundreds of quorum queues.
 * `setpriv` switches user without PAM, so the raised limit reaches the Erlang VM.
 */
const RABBITMQ_START =
  'ulimit -n 20000 && cd /var/lib/rabbitmq && HOME=/var/lib/rabbitmq exec setpriv --reuid=rabbitmq ' +
  '--regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server -detached ' +
  '>>/var/log/rabbitmq/startup_log 2>>/var/log/rabbitmq/startup_err';

/**
 * RabbitMQ 3.10, the whole process: `rabbitmqctl stop` (the Erlang node exits), then `rabbitmq-server
 * -detached` with `ulimit -n 20000` (see {@link RABBITMQ_START}), waiting until the node has booted
 * and an AMQP connection opens a channel. Chosen with `HERALD_RABBITMQ_RESTART=process`.
 */
export const rabbitmqProcessRestart: ServerRestart = {
  server: 'rabbitmq',
  how: 'rabbitmqctl stop, then rabbitmq-server -detached (a new Erlang node)',
  variant: 'process',
  restart: (downMs) =>
    restartWith(
      () => run('rabbitmqctl', ['stop'], { timeout: 120_000 }),
      async () => {
        if (
          await amqpUsable().then(
            () => true,
            () => false,
          )
        )
          return;
        await run('bash', ['-c', RABBITMQ_START], { timeout: 60_000 });
        // The node answers `rabbitmqctl` a little after it was spawned; the AMQP probe below decides.
        await run('rabbitmqctl', ['await_startup', '--timeout', '180'], { timeout: 200_000 }).catch(
          () => undefined,
        );
      },
      () => waitUsable('RabbitMQ', amqpUsable, 180_000),
      downMs,
    ),
};

/** The RabbitMQ restart of the tests: {@link rabbitmqAppRestart}, or the whole process if asked. */
export const rabbitmqRestart: ServerRestart =
  process.env.HERALD_RABBITMQ_RESTART === 'process' ? rabbitmqProcessRestart : rabbitmqAppRestart;

/** The PostgreSQL cluster `scripts/services.sh` starts: the one version under `/etc/postgresql`. */
function postgresVersion(): string {
  const versions = readdirSync('/etc/postgresql');
  if (versions.length !== 1)
    throw new Error(`expected one PostgreSQL version in /etc/postgresql: ${versions.join(', ')}`);
  return versions[0]!;
}

/**
 * PostgreSQL: `pg_ctlcluster <version> main stop` (fast: open sessions are ended), then `start`. Usable once a
 * query on the admin database answers.
 */
export const postgresRestart: ServerRestart = {
  server: 'postgresql',
  how: 'pg_ctlcluster stop (fast), then start',
  restart: (downMs) => {
    const ctl = (action: string) =>
      run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', action], {
        timeout: 90_000,
      });
    return restartWith(
      () => ctl('stop'),
      () => ctl('start'),
      () =>
        waitUsable('PostgreSQL', async () => {
          const client = new pg.Client({
            connectionString: ADMIN_DATABASE_URL,
            connectionTimeoutMillis: 2000,
          });
          await client.connect();
          try {
            await client.query('SELECT 1');
          } finally {
            await client.end();
          }
        }),
      downMs,
    );
  },
};
