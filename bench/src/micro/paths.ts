import {
  createPublisher,
  createRouter,
  defineEvent,
  idempotency,
  memoryInbox,
  type TransportRecord,
} from '@herald/core';
import { eventDataObject, keyOf, TOPIC } from '../message.ts';
import { stubTransport } from './stub-transport.ts';

/** The paths the micro-benchmark measures, in run order (they interleave within each repetition). */
export type MicroPathId = 'publish' | 'dispatch' | 'dispatch-idempotent';
export const MICRO_PATHS: readonly MicroPathId[] = ['publish', 'dispatch', 'dispatch-idempotent'];

/** How each path is driven, for the report. */
export const MICRO_PATH_NOTES: Readonly<Record<MicroPathId, string>> = {
  publish:
    '`createPublisher` → `await publisher.publish(OrderPlaced, data)` per event, one at a time: schema ' +
    'validation, partition key, CloudEvents envelope and binary-mode encoding into a transport record; the stub ' +
    'transport acknowledges at once.',
  dispatch:
    '`createRouter` with its default pipeline (dead-letter, redelivery, retry, validation; no telemetry ' +
    'registered), `concurrency: 1` and one handler; each event handed to the subscription and awaited until ' +
    'settled: decode, validate, handler, ack.',
  'dispatch-idempotent':
    'as `dispatch`, plus `idempotency({ inbox: memoryInbox() })` in `middleware`: each event id looked up and ' +
    'recorded in the in-memory inbox (a fresh inbox per repetition, so no event is skipped as a duplicate).',
};

type OrderData = ReturnType<typeof eventDataObject>;

/**
 * A Standard Schema that accepts the data as is: the micro-benchmark measures Herald's own work, not a
 * validator's (a real schema adds its own cost on both paths).
 */
const orderSchema = {
  '~standard': {
    version: 1 as const,
    vendor: 'herald-bench',
    validate: (value: unknown) => ({ value: value as OrderData }),
  },
};

const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  topic: TOPIC,
  schema: orderSchema,
  key: (data: OrderData) => keyOf(data.seq),
});

/** One repetition of a path, set up and ready: `run` is what is timed, `check` what must hold after it. */
export interface PreparedPath {
  run(): Promise<void>;
  /** Closes the router, untimed. */
  close(): Promise<void>;
  /** Why the run does not count (events lost, errors, dead letters), or undefined when it is sane. */
  check(): string | undefined;
}

/** The input every path shares: the event data, and the records the publish path makes of it. */
export interface MicroInput {
  readonly data: readonly OrderData[];
  readonly records: readonly TransportRecord[];
}

/** Builds `count` events' data and their encoded records (through the publish path itself, untimed). */
export async function microInput(count: number): Promise<MicroInput> {
  const data = Array.from({ length: count }, (_, i) => eventDataObject(i, 0));
  const transport = stubTransport({ keep: true });
  const publisher = createPublisher({ transport, source: '/bench/micro' });
  for (const d of data) await publisher.publish(OrderPlaced, d);
  return { data, records: transport.kept };
}

function preparePublish(input: MicroInput): PreparedPath {
  const transport = stubTransport();
  const publisher = createPublisher({ transport, source: '/bench/micro' });
  return {
    async run() {
      for (const d of input.data) await publisher.publish(OrderPlaced, d);
    },
    close: () => transport.close(),
    check() {
      const { published } = transport.counters;
      return published === input.data.length
        ? undefined
        : `published ${published} of ${input.data.length} events`;
    },
  };
}

async function prepareDispatch(input: MicroInput, idempotent: boolean): Promise<PreparedPath> {
  const transport = stubTransport();
  const inbox = memoryInbox();
  const errors: unknown[] = [];
  let handled = 0;
  const router = createRouter({
    transport,
    group: 'micro',
    source: '/bench/micro',
    concurrency: 1,
    middleware: idempotent ? [idempotency({ inbox })] : [],
    onError: (error) => errors.push(error),
  });
  router.on(OrderPlaced, () => {
    handled++;
  });
  await router.start();
  const { records } = input;
  return {
    async run() {
      for (let i = 0; i < records.length; i++) await transport.deliver(records[i]!, i);
    },
    close: () => router.close(),
    check() {
      const n = records.length;
      const { acked, retried, deadLettered } = transport.counters;
      const problems = [
        handled === n ? '' : `handled ${handled} of ${n}`,
        acked === n ? '' : `acked ${acked} of ${n}`,
        retried + deadLettered === 0 ? '' : `${retried} retried, ${deadLettered} dead-lettered`,
        errors.length === 0 ? '' : `${errors.length} router errors (first: ${String(errors[0])})`,
        !idempotent || inbox.size === n ? '' : `inbox recorded ${inbox.size} of ${n}`,
      ].filter((p) => p !== '');
      return problems.length === 0 ? undefined : problems.join('; ');
    },
  };
}

/** Sets up one repetition of `path` on `input` (a fresh transport, publisher or router, and inbox). */
export function preparePath(path: MicroPathId, input: MicroInput): Promise<PreparedPath> {
  switch (path) {
    case 'publish':
      return Promise.resolve(preparePublish(input));
    case 'dispatch':
      return prepareDispatch(input, false);
    case 'dispatch-idempotent':
      return prepareDispatch(input, true);
  }
}
