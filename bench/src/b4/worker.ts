// Entry point of B4's processes: `node --import tsx b4/worker.ts '<B4WorkerArgs JSON>'`. The producer commits
// business transactions phase by phase when told; the relay moves the system's queue to the sqlite transport; the
// consumer handles events with the inbox. Each reports its CPU and memory from `start` to `finish`.
import { sqlite } from '@herald/sqlite';
import { benchPool } from './database.ts';
import { CONSUMER_CONCURRENCY, startConsumer } from './consumer.ts';
import { PRODUCER_WINDOW, runPhase } from './producer.ts';
import type { B4Usage, B4WorkerArgs, PhaseCommand } from './protocol.ts';
import { RELAY_POOL, startRelay } from './relays.ts';
import { businessWrite } from './writers.ts';
import { reportProgress, runWorker, sendToParent } from '../worker-process.ts';

type Incoming = PhaseCommand | { readonly type: 'start' } | { readonly type: 'finish' };

const send = sendToParent;

/** Resolves with the next message of `type` from the orchestrator. */
function next<T extends Incoming['type']>(type: T): Promise<Extract<Incoming, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (message: Incoming): void => {
      if (message.type !== type) return;
      process.off('message', listener);
      resolve(message as Extract<Incoming, { type: T }>);
    };
    process.on('message', listener);
  });
}

function usageSince(start: NodeJS.CpuUsage): B4Usage {
  const cpu = process.cpuUsage(start);
  return { cpuUs: cpu.user + cpu.system, maxRssKb: process.resourceUsage().maxRSS };
}

async function producer(args: B4WorkerArgs): Promise<void> {
  const pool = benchPool(PRODUCER_WINDOW);
  try {
    const write = await businessWrite(args.system, args.schemas, pool);
    const started = next('start');
    const finished = next('finish');
    process.on('message', (message: Incoming) => {
      if (message.type !== 'phase') return;
      runPhase(pool, write, message).then(send, (error: unknown) =>
        send({
          type: 'error',
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
      );
    });
    await send({ type: 'ready' });
    await started;
    const cpu = process.cpuUsage();
    await finished;
    await send({ type: 'result', result: usageSince(cpu) });
  } finally {
    await pool.end();
  }
}

async function relay(args: B4WorkerArgs): Promise<void> {
  const pool = benchPool(RELAY_POOL);
  const transport = sqlite({ path: args.path, durability: 'D1' });
  try {
    const running = await startRelay(args.system, pool, args.schemas, transport);
    const started = next('start');
    const finished = next('finish');
    await send({ type: 'ready' });
    await started;
    const cpu = process.cpuUsage();
    await finished;
    const counts = await running.close();
    await send({ type: 'result', result: { ...usageSince(cpu), ...counts } });
  } finally {
    await transport.close();
    await pool.end();
  }
}

async function consumer(args: B4WorkerArgs): Promise<void> {
  const pool = benchPool(CONSUMER_CONCURRENCY);
  const transport = sqlite({ path: args.path, durability: 'D1' });
  try {
    const started = next('start');
    const finished = next('finish');
    const running = await startConsumer(pool, args.schemas, transport, args.total);
    const { log } = running;
    await send({ type: 'ready' });
    await started;
    const cpu = process.cpuUsage();
    const stopProgress = reportProgress(() => log.distinct, 10);
    await finished;
    stopProgress();
    await running.close();
    const usage = usageSince(cpu);
    await send({
      type: 'result',
      result: { ...usage, entryUs: log.entryUs, doneUs: log.doneUs, duplicates: log.duplicates },
    });
  } finally {
    await transport.close();
    await pool.end();
  }
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as B4WorkerArgs;
  if (args.role === 'producer') await producer(args);
  else if (args.role === 'relay') await relay(args);
  else await consumer(args);
}

runWorker(main);
