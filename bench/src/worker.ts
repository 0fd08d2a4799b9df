// Entry point of every producer and consumer process: `node --import tsx worker.ts '<WorkerArgs JSON>'`.
import type { PeerClient, ProducerDriver } from './driver.ts';
import { fixedRate, oneByOne, saturate, type LoadOutcome } from './load.ts';
import type {
  ChildMessage,
  ParentMessage,
  PeerKind,
  ProcessUsage,
  TrialSpec,
  WorkerArgs,
} from './protocol.ts';
import { Sink } from './sink.ts';
import { reportProgress, runWorker, sendToParent } from './worker-process.ts';

const clients: Record<PeerKind, () => Promise<PeerClient>> = {
  'sqlite-raw': async () => (await import('./peers/sqlite-raw-client.ts')).sqliteRawClient,
  bullmq: async () => (await import('./peers/bullmq-client.ts')).bullmqClient,
  jetstream: async () => (await import('./peers/jetstream-client.ts')).jetstreamClient,
  herald: async () => (await import('./peers/herald-client.ts')).heraldClient,
  'herald-api': async () => (await import('./peers/herald-api-client.ts')).heraldApiClient,
  'kafka-raw': async () => (await import('./peers/kafka-raw-client.ts')).kafkaRawClient,
  kafkajs: async () => (await import('./peers/kafkajs-client.ts')).kafkajsClient,
  'herald-kafka': async () => (await import('./peers/herald-kafka-client.ts')).heraldKafkaClient,
  amqplib: async () => (await import('./peers/amqplib-client.ts')).amqplibClient,
  'herald-rabbitmq': async () => (await import('./peers/herald-rabbitmq-client.ts')).heraldRabbitmqClient,
  'nats-raw': async () => (await import('./peers/nats-raw-client.ts')).natsRawClient,
  'herald-nats': async () => (await import('./peers/herald-nats-client.ts')).heraldNatsClient,
};

const send = (message: ChildMessage): Promise<void> => sendToParent(message);

function nextMessage(type: ParentMessage['type']): Promise<void> {
  return new Promise((resolve) => {
    const listener = (message: ParentMessage): void => {
      if (message.type !== type) return;
      process.off('message', listener);
      resolve();
    };
    process.on('message', listener);
  });
}

function usageSince(start: NodeJS.CpuUsage): ProcessUsage {
  const cpu = process.cpuUsage(start);
  return { cpuUs: cpu.user + cpu.system, maxRssKb: process.resourceUsage().maxRSS };
}

function load(driver: ProducerDriver, spec: TrialSpec): Promise<LoadOutcome> {
  switch (spec.mode) {
    case 'latency':
      return fixedRate(driver, spec.count, spec.rate);
    case 'publish-one':
      return oneByOne(driver, spec.count);
    case 'publish-batch':
      return saturate(driver, spec.count, spec.batch, spec.window, true);
    default:
      return saturate(driver, spec.count, spec.batch, spec.window);
  }
}

async function produce(args: Extract<WorkerArgs, { role: 'producer' }>, client: PeerClient): Promise<void> {
  const { spec } = args;
  const driver = await client.producer(spec);
  // A producer alone (nothing reads its events) first runs the whole trial once unmeasured, so that its CPU per
  // event is the publish path's steady cost rather than the compilation of a process that has just started.
  if (spec.mode === 'publish-one' || spec.mode === 'publish-batch') await load(driver, spec);
  const started = nextMessage('start');
  await send({ type: 'ready' });
  await started;
  const cpu = process.cpuUsage();
  const { acked, ...timing } = await load(driver, spec);
  const usage = usageSince(cpu);
  await send({ type: 'producer-result', result: { ...usage, published: acked, ...timing } });
  await driver.close();
}

async function consume(args: Extract<WorkerArgs, { role: 'consumer' }>, client: PeerClient): Promise<void> {
  const { spec, placement } = args;
  const sink = new Sink(spec.count, spec.mode === 'latency');
  // The events of a `consume` trial are stored before it starts: the consumer joins when told to start (its CPU
  // counts from there), or it would read them before the measurement.
  const joinAtStart = spec.mode === 'consume';
  const started = nextMessage('start');
  const finished = nextMessage('finish');
  let driver = joinAtStart ? undefined : await client.consumer(spec, placement, sink);
  await send({ type: 'ready' });
  await started;
  const cpu = process.cpuUsage();
  driver ??= await client.consumer(spec, placement, sink);
  const stopProgress = reportProgress(() => sink.distinct, 20);
  await finished;
  stopProgress();
  const usage = usageSince(cpu);
  await send({ type: 'consumer-result', result: sink.result(usage) });
  await driver.close();
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as WorkerArgs;
  const client = await clients[args.spec.peer]();
  if (args.role === 'producer') await produce(args, client);
  else await consume(args, client);
}

runWorker(main);
