import type { ConsumerLag } from '@herald/core';

/** Where to read a group's lag: the broker URL and the broker-side names (`HERALD_TOPIC_PREFIX` applied). */
export interface LagQuery {
  /** The transport's name (`sqlite`, `kafka`...). */
  readonly transport: string;
  readonly url: string;
  /** `HERALD_TOPIC_PREFIX`, or `''`: added to the names on the broker, stripped from the answer. */
  readonly topicPrefix: string;
  readonly groups: readonly string[];
  readonly topics: readonly string[];
}

/** The lag of the queried groups, or why the transport cannot say. */
export type LagReport =
  | { readonly reported: true; readonly lags: readonly ConsumerLag[]; readonly note?: string }
  | { readonly reported: false; readonly reason: string };

/**
 * Lag per group and partition, read from the broker's own bookkeeping, not by joining the groups (which would
 * take partitions from the services): on sqlite the committed offsets in the log file, on Kafka the group's
 * committed offsets against the partitions' end offsets, on NATS each partition consumer's pending count
 * (undelivered + unacknowledged). `Transport.consumerLag` cannot serve here: it reports only the subscriptions
 * of the process asking. RabbitMQ and SQS keep no position, only queues: `reported: false` with the reason.
 * A (group, topic) pair where the group holds no position (it never subscribed the topic) is left out rather
 * than reported as all of the topic. Rejects when the broker cannot be read.
 */
export async function readGroupLag(query: LagQuery): Promise<LagReport> {
  if (query.groups.length === 0 || query.topics.length === 0) {
    return { reported: true, lags: [] };
  }
  switch (query.transport) {
    case 'sqlite':
      return { reported: true, lags: await sqliteLag(query) };
    case 'kafka':
      return { reported: true, lags: await kafkaLag(query) };
    case 'nats':
      return {
        reported: true,
        lags: await natsLag(query),
        note: 'nats: pending = not yet delivered + delivered and not acknowledged, per partition consumer',
      };
    case 'rabbitmq':
      return {
        reported: false,
        reason:
          'not reported by rabbitmq: a queue holds no committed position, only messages (its count is not a lag per partition Herald vouches for)',
      };
    case 'sqs':
      return {
        reported: false,
        reason: 'not reported by sqs: SQS queues keep no position, only approximate message counts',
      };
    default:
      return {
        reported: false,
        reason: `not reported by ${query.transport}: its state lives in another process`,
      };
  }
}

type Pair = { group: string; topic: string };

function pairs(query: LagQuery): Pair[] {
  return query.groups.flatMap((group) => query.topics.map((topic) => ({ group, topic })));
}

async function sqliteLag(query: LagQuery): Promise<ConsumerLag[]> {
  const { parseSqliteUrl, sqliteLogStore } = await import('@herald/sqlite');
  const { default: Database } = await import('better-sqlite3');
  const options = parseSqliteUrl(query.url);
  // The partition count of a topic is in the log's catalogue; the store reads the offsets as the engine does.
  const catalogue = new Database(options.path, { readonly: true, fileMustExist: true });
  const store = sqliteLogStore(options);
  try {
    const partitionsOf = catalogue
      .prepare<[string], number>('SELECT partitions FROM topics WHERE name = ?')
      .pluck();
    const lags: ConsumerLag[] = [];
    for (const { group, topic } of pairs(query)) {
      const brokerTopic = `${query.topicPrefix}${topic}`;
      const count = partitionsOf.get(brokerTopic) ?? 0;
      const pair: ConsumerLag[] = [];
      let positioned = false;
      for (let partition = 0; partition < count; partition++) {
        const tp = { topic: brokerTopic, partition };
        const [end, committed] = await Promise.all([
          store.endOffset(tp.topic, partition),
          store.committed(`${query.topicPrefix}${group}`, tp),
        ]);
        if (committed !== undefined) positioned = true;
        const lag = end - (committed ?? 0n);
        pair.push({ group, topic, partition, lag: lag > 0n ? Number(lag) : 0 });
      }
      if (positioned) lags.push(...pair);
    }
    return lags;
  } finally {
    catalogue.close();
    await store.close();
  }
}

async function kafkaLag(query: LagQuery): Promise<ConsumerLag[]> {
  const { parseKafkaUrl, resolveKafkaOptions } = await import('@herald/kafka');
  const { Admin, ListOffsetTimestamps } = await import('@platformatic/kafka');
  const options = resolveKafkaOptions(parseKafkaUrl(query.url));
  const admin = new Admin({ clientId: 'herald-cli', bootstrapBrokers: [...options.brokers] });
  try {
    const brokerTopics = query.topics.map((t) => `${query.topicPrefix}${t}`);
    const existing = new Set(await admin.listTopics());
    const present = brokerTopics.filter((t) => existing.has(t));
    if (present.length === 0) return [];
    const metadata = await admin.metadata({ topics: present });
    const partitionsOf = (topic: string): number => metadata.topics.get(topic)?.partitionsCount ?? 0;
    const ends = await admin.listOffsets({
      topics: present.map((name) => ({
        name,
        partitions: Array.from({ length: partitionsOf(name) }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp: ListOffsetTimestamps.LATEST,
        })),
      })),
    });
    const end = new Map<string, bigint>();
    for (const t of ends) for (const p of t.partitions) end.set(`${t.name}/${p.partitionIndex}`, p.offset);
    const committedGroups = await admin.listConsumerGroupOffsets({
      groups: query.groups.map((g) => `${query.topicPrefix}${g}`),
    });
    const lags: ConsumerLag[] = [];
    for (const group of query.groups) {
      const committed = new Map<string, bigint>();
      const found = committedGroups.find((g) => g.groupId === `${query.topicPrefix}${group}`);
      for (const t of found?.topics ?? []) {
        for (const p of t.partitions) committed.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
      }
      for (const brokerTopic of present) {
        const pair: ConsumerLag[] = [];
        let positioned = false;
        for (let partition = 0; partition < partitionsOf(brokerTopic); partition++) {
          const at = `${brokerTopic}/${partition}`;
          const position = committed.get(at) ?? -1n;
          if (position >= 0n) positioned = true;
          const lag = (end.get(at) ?? 0n) - (position >= 0n ? position : 0n);
          pair.push({
            group,
            topic: brokerTopic.slice(query.topicPrefix.length),
            partition,
            lag: lag > 0n ? Number(lag) : 0,
          });
        }
        if (positioned) lags.push(...pair);
      }
    }
    return lags;
  } finally {
    await admin.close();
  }
}

async function natsLag(query: LagQuery): Promise<ConsumerLag[]> {
  const { parseNatsUrl, resolveNatsOptions, Names } = await import('@herald/nats');
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const options = resolveNatsOptions(parseNatsUrl(query.url));
  const names = new Names(options.prefix);
  const nc = await connect({ servers: [...options.servers] });
  try {
    const jsm = await jetstreamManager(nc);
    const lags: ConsumerLag[] = [];
    for (const { group, topic } of pairs(query)) {
      const brokerTopic = `${query.topicPrefix}${topic}`;
      const stream = names.topicStream(brokerTopic);
      let subjects: string[];
      try {
        subjects = (await jsm.streams.info(stream)).config.subjects ?? [];
      } catch {
        continue; // no stream: the topic was never used
      }
      const partitions = names.partitionsFromSubjects(brokerTopic, subjects) ?? 0;
      for (let partition = 0; partition < partitions; partition++) {
        const consumer = names.partitionConsumer(`${query.topicPrefix}${group}`, partition);
        try {
          const info = await jsm.consumers.info(stream, consumer);
          lags.push({ group, topic, partition, lag: info.num_pending + info.num_ack_pending });
        } catch {
          // No consumer: the group never subscribed to this topic; nothing to report for it.
        }
      }
    }
    return lags;
  } finally {
    await nc.close();
  }
}
