/**
 * The brokers the end-to-end tests run the shop on: how each is reached, the `HERALD_BROKER` URL (with timings
 * short enough for a test: a killed member is noticed in seconds), and how to remove what a run created, found
 * by its topic prefix (`HERALD_TOPIC_PREFIX`, unique per run, so reruns never see old events).
 *
 * Under `CI=true` a broker that cannot be reached fails the test; elsewhere the test is skipped with the command
 * that starts it.
 */
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Admin } from '@platformatic/kafka';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import amqp from 'amqplib';
import { Names } from '@herald/nats';
import { Topology } from '@herald/rabbitmq';
import { SERVICES } from '../../src/contracts/index.ts';

export type EngineName = 'sqlite' | 'kafka' | 'rabbitmq' | 'nats' | 'sqs';

/** One broker the shop can run on. */
export interface Engine {
  readonly name: EngineName;
  /** `HERALD_BROKER` for a shop whose data folder is `dataDir`. */
  brokerUrl(dataDir: string): string;
  /** Why the tests cannot run here (skip), or `undefined`. Throws under `CI=true` instead of returning a reason. */
  unreachable(): Promise<string | undefined>;
  /** Removes the topics, queues, streams and groups a run with `topicPrefix` created. Best effort. */
  cleanUp(topicPrefix: string): Promise<void>;
  /**
   * Whether `members` members of `group` (its name on the broker) each hold partitions now; for the scale-out
   * test, which must not start before the work can be shared.
   */
  readonly groupBalanced?: (dataDir: string, group: string, members: number) => Promise<boolean>;
  /**
   * Messages waiting in the run's partition queues (ready, not yet delivered), for a broker that keeps no
   * committed position to read a lag from (RabbitMQ). Absent where the `herald` CLI's `readGroupLag` can tell.
   */
  readonly queued?: (topicPrefix: string) => Promise<number>;
}

/** The topics each service subscribes to (its router's `describe().topics`). */
export const SUBSCRIPTIONS: Record<string, readonly string[]> = {
  [SERVICES.order.group]: ['payments', 'inventory'],
  [SERVICES.payment.group]: ['orders'],
  [SERVICES.inventory.group]: ['orders'],
  [SERVICES.notification.group]: ['orders'],
};
export const TOPICS = ['orders', 'payments', 'inventory', 'notifications'] as const;

export const KAFKA_BROKERS = (process.env.HERALD_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
export const RABBITMQ_URL = process.env.HERALD_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env.HERALD_NATS_URL ?? 'nats://127.0.0.1:4222';
/** The console's consumer group (its default `HERALD_CONSOLE_GROUP`). */
const CONSOLE_GROUP = 'herald-console';

/** Partition queues per (topic, group) on RabbitMQ in these tests (quorum queues are not free). */
const RABBITMQ_PARTITIONS = 4;

/** A topic prefix no other run uses: letters, digits and `-`, valid on every engine. */
export function uniquePrefix(engine: string): string {
  return `e2e-${engine}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-`;
}

function unavailable(what: string, how: string, cause?: unknown): string {
  if (process.env.CI === 'true')
    throw new Error(`${what} is not reachable (CI=true: failing, not skipping)`, { cause });
  return `${what} is not reachable; ${how}`;
}

function tcpReachable(hostPort: string, timeoutMs = 2000): Promise<boolean> {
  const [host, port] = hostPort.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port: Number(port) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const sqliteEngine: Engine = {
  name: 'sqlite',
  // Heartbeats every second: partitions move within a few seconds of a member joining or dying.
  brokerUrl: (dataDir) => `sqlite:${dataDir}/herald.db?sessionTimeoutMs=3000`,
  unreachable: () => Promise.resolve(undefined),
  // The log lives in the run's data folder, removed with it.
  cleanUp: () => Promise.resolve(),
  groupBalanced(dataDir, group, members) {
    // The embedded log's own table of partition owners (a partition being handed over has `released = 1`).
    const db = new Database(join(dataDir, 'herald.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare<[string], { owners: number; moving: number }>(
          `SELECT count(DISTINCT owner) AS owners, coalesce(sum(released), 0) AS moving
           FROM group_partitions WHERE grp = ? AND owner IS NOT NULL`,
        )
        .get(group);
      return Promise.resolve(row !== undefined && row.owners >= members && row.moving === 0);
    } finally {
      db.close();
    }
  },
};

export const kafkaEngine: Engine = {
  name: 'kafka',
  // Short sessions: a SIGKILLed member's partitions move within about 3 s (the broker script allows 500 ms).
  brokerUrl: () =>
    `kafka://${KAFKA_BROKERS.join(',')}?sessionTimeoutMs=3000&heartbeatIntervalMs=300&rebalanceTimeoutMs=6000` +
    '&commitIntervalMs=50&maxWaitMs=200',
  async unreachable() {
    if (await tcpReachable(KAFKA_BROKERS[0]!)) return undefined;
    return unavailable(`Kafka at ${KAFKA_BROKERS[0]}`, 'start it with `bash scripts/kafka/broker.sh start`');
  },
  async cleanUp(prefix) {
    const admin = new Admin({ clientId: 'shop-e2e-cleanup', bootstrapBrokers: KAFKA_BROKERS });
    try {
      const topics = (await admin.listTopics()).filter((topic) => topic.includes(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      const groups = [...(await admin.listGroups()).keys()].filter((group) => group.startsWith(prefix));
      if (groups.length > 0) await admin.deleteGroups({ groups });
    } finally {
      await admin.close();
    }
  },
  async groupBalanced(_dataDir, group, members) {
    const admin = new Admin({ clientId: 'shop-e2e-probe', bootstrapBrokers: KAFKA_BROKERS });
    try {
      const described = (await admin.describeGroups({ groups: [group] })).get(group);
      return described?.state === 'STABLE' && described.members.size >= members;
    } finally {
      await admin.close();
    }
  },
};

export const rabbitmqEngine: Engine = {
  name: 'rabbitmq',
  brokerUrl: () => `${RABBITMQ_URL}?partitions=${RABBITMQ_PARTITIONS}&rebalanceIntervalMs=250`,
  async unreachable() {
    try {
      const connection = await amqp.connect(RABBITMQ_URL, { timeout: 3000 });
      await connection.close();
      return undefined;
    } catch (error) {
      return unavailable(`RabbitMQ at ${RABBITMQ_URL}`, 'start it with `bash scripts/services.sh`', error);
    }
  },
  async queued(prefix) {
    const topology = new Topology({ prefix: '', partitions: RABBITMQ_PARTITIONS, queueType: 'quorum' });
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      const channel = await connection.createChannel();
      let total = 0;
      for (const [group, topics] of Object.entries(SUBSCRIPTIONS)) {
        for (const topic of topics) {
          for (let p = 0; p < RABBITMQ_PARTITIONS; p++) {
            const queue = topology.partitionQueue(`${prefix}${topic}`, `${prefix}${group}`, p);
            total += (await channel.checkQueue(queue)).messageCount;
          }
        }
      }
      await channel.close();
      return total;
    } finally {
      await connection.close();
    }
  },
  async cleanUp(prefix) {
    // The run's names all carry its prefix; the delay tiers and the dead-letter exchange are shared, and stay.
    const topology = new Topology({ prefix: '', partitions: RABBITMQ_PARTITIONS, queueType: 'quorum' });
    // The services' groups, and the console's (`npm start` runs it unless HERALD_CONSOLE=off), which reads every
    // topic. Deleting a queue that was never declared is a no-op.
    const subscriptions: [string, readonly string[]][] = [
      ...Object.entries(SUBSCRIPTIONS),
      [CONSOLE_GROUP, TOPICS],
    ];
    const groups = subscriptions.map(([group]) => `${prefix}${group}`);
    const queues = [
      ...subscriptions.flatMap(([group, topics]) =>
        topics.flatMap((topic) => [
          ...Array.from({ length: RABBITMQ_PARTITIONS }, (_, p) => [
            topology.partitionQueue(`${prefix}${topic}`, `${prefix}${group}`, p),
            topology.lockQueue(`${prefix}${topic}`, `${prefix}${group}`, p),
          ]).flat(),
          topology.membersQueue(`${prefix}${topic}`, `${prefix}${group}`),
          topology.hungryQueue(`${prefix}${topic}`, `${prefix}${group}`),
        ]),
      ),
      ...groups.map((group) => topology.deadLetterQueue(group)),
    ];
    const exchanges = TOPICS.flatMap((topic) => [
      topology.exchange(`${prefix}${topic}`),
      topology.unroutedExchange(`${prefix}${topic}`),
    ]);
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      const channel = await connection.createChannel();
      for (const queue of queues) await channel.deleteQueue(queue);
      for (const exchange of exchanges) await channel.deleteExchange(exchange);
      await channel.close();
    } finally {
      await connection.close();
    }
  },
};

export const natsEngine: Engine = {
  name: 'nats',
  // A dead member's partitions are claimed after the session timeout, then pulled after the ack wait.
  brokerUrl: () =>
    `${NATS_URL}?sessionTimeoutMs=2000&ackWaitMs=4000&handoverTimeoutMs=3000&fetchExpiresMs=5000`,
  async unreachable() {
    try {
      const nc = await natsConnect({ servers: NATS_URL, timeout: 2000, maxReconnectAttempts: 0 });
      await jetstreamManager(nc);
      await nc.close();
      return undefined;
    } catch (error) {
      return unavailable(`NATS JetStream at ${NATS_URL}`, 'start it with `bash scripts/services.sh`', error);
    }
  },
  async cleanUp(prefix) {
    const nc = await natsConnect({ servers: NATS_URL, timeout: 2000, maxReconnectAttempts: 0 });
    try {
      const jsm = await jetstreamManager(nc);
      const names = new Names('herald');
      const ours = new Set(TOPICS.map((topic) => names.topicStream(`${prefix}${topic}`)));
      const streams: string[] = [];
      for await (const name of jsm.streams.names()) if (ours.has(name)) streams.push(name);
      await Promise.all(streams.map((name) => jsm.streams.delete(name)));
    } finally {
      await nc.close();
    }
  },
};
