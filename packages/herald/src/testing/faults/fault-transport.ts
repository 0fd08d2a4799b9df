import { ErrorCodes, HeraldError, type ErrorInfo } from '../../errors.ts';
import type {
  DeadLetterFailure,
  Delivery,
  PublishReceipt,
  SubscribeOptions,
  Transport,
  TransportRecord,
} from '../../transport.ts';
import { roll } from './fault-dice.ts';
import {
  emptyFaultCounts,
  resolveFaultOptions,
  type FaultKind,
  type FaultOptions,
  type ResolvedFaultOptions,
} from './fault-options.ts';
import { EventOrdinals } from './event-ordinals.ts';
import { HoldBoard } from './hold-board.ts';
import { KeyLanes } from './key-lanes.ts';

/** One fault the kit injected, for the report of a failed check. */
export interface InjectedFault {
  readonly kind: FaultKind;
  readonly topic: string;
  readonly group?: string;
  readonly key?: string;
  readonly eventId?: string;
}

/** Options of {@link FaultyTransport.quiet}. */
export interface QuietOptions {
  /** How long nothing may happen for the transport to count as quiet. Default 100 ms. */
  readonly quietMs?: number;
  /** Rejects after this long. Default 15 s. */
  readonly timeoutMs?: number;
}

/**
 * A transport with faults injected: the same contract as the one it wraps (every record still reaches every
 * group at least once, same-key records keep their order where the inner transport promises it), plus the
 * production reality a correct consumer must survive. `injected` says what was done, `problems` what the kit
 * saw go wrong that no outcome comparison would show (a duplicate the handler could not take).
 */
export interface FaultyTransport extends Transport {
  /** The transport underneath, without faults (for a test driver that must not see publish faults). */
  readonly inner: Transport;
  readonly options: ResolvedFaultOptions;
  /** Every fault injected so far, in the order injected. */
  readonly injected: readonly InjectedFault[];
  /** How many faults of each kind were injected so far. */
  counts(): Record<FaultKind, number>;
  /** What the kit saw go wrong: a late duplicate that was dead-lettered or failed, an ack after settling. */
  readonly problems: readonly string[];
  /**
   * Resolves once no delivery has been inside the kit (held, delayed, handled or scheduled as a duplicate) for
   * `quietMs`. Deliveries the inner transport has not handed over yet are not visible to it: wait for the
   * outcome you expect first, then for `quiet()`.
   */
  quiet(options?: QuietOptions): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function transientError(what: string): HeraldError {
  return new HeraldError(ErrorCodes.TRANSPORT, `Injected fault: ${what}`);
}

/**
 * Wraps `transport` to inject, reproducibly from `options.seed`, duplicate deliveries, redelivery after a crash
 * between the handler's commit and its ack, failed acks, reordering across keys (never within a key), delays,
 * and transient publish errors (before or after the broker stored the records). Decisions derive from the seed
 * and each event's id, so the same seed injects the same faults into the same events. For tests: the wrapper
 * keeps bookkeeping per event in memory.
 */
export function withFaults(transport: Transport, faultOptions: FaultOptions = {}): FaultyTransport {
  const options = resolveFaultOptions(faultOptions);
  const injected: InjectedFault[] = [];
  const problems: string[] = [];
  const faultsPerEvent = new Map<string, number>();
  const publishCalls = new Map<string, number>();
  let active = 0;
  let lastActivity = Date.now();

  const busy = (): (() => void) => {
    active++;
    lastActivity = Date.now();
    return () => {
      active--;
      lastActivity = Date.now();
    };
  };

  const publishNames = new EventOrdinals();

  /**
   * True (and logged) when the dice say so and the event still has fault budget in this group. `name` is the
   * event's stable name ({@link EventOrdinals}), `nth` tells apart the decisions made about it.
   */
  const inject = (
    kind: FaultKind,
    probability: number,
    record: TransportRecord,
    group: string | undefined,
    name: string,
    nth: number,
  ): boolean => {
    if (probability === 0) return false;
    const eventId = record.attributes.id ?? '';
    const budgetKey = `${group ?? ''}\u0000${eventId}`;
    const used = faultsPerEvent.get(budgetKey) ?? 0;
    if (used >= options.maxFaultsPerEvent) return false;
    if (roll(options.seed, kind, name, nth) >= probability) return false;
    faultsPerEvent.set(budgetKey, used + 1);
    injected.push({
      kind,
      topic: record.topic,
      ...(group === undefined ? {} : { group }),
      ...(record.key === undefined ? {} : { key: record.key }),
      ...(eventId === '' ? {} : { eventId }),
    });
    return true;
  };

  async function publish(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
    const first = records[0];
    if (first === undefined) return transport.publish(records);
    const callKey = records.map((r) => r.attributes.id ?? '').join(',');
    const nth = (publishCalls.get(callKey) ?? 0) + 1;
    publishCalls.set(callKey, nth);
    const name = publishNames.nameOf(first);
    if (inject('publish-error', options.publishError, first, undefined, name, nth)) {
      throw transientError('publish failed before reaching the broker');
    }
    const receipts = await transport.publish(records);
    if (inject('publish-lost-ack', options.publishLostAck, first, undefined, name, nth)) {
      throw transientError('publish stored, but its acknowledgement was lost');
    }
    return receipts;
  }

  function subscribe(subscribeOptions: SubscribeOptions, onDelivery: (delivery: Delivery) => Promise<void>) {
    const { group } = subscribeOptions;
    const board = new HoldBoard();
    const lanes = new KeyLanes();
    const seen = new Map<string, number>();
    const names = new EventOrdinals();

    /** A late copy of a record the group already acked, as an at-least-once broker may hand out. */
    const deliverLateDuplicate = (original: Delivery, attempt: number, waitMs: number): void => {
      const done = busy();
      void (async () => {
        await sleep(waitMs);
        let retry: { delayMs: number } | undefined;
        const late: Delivery = {
          record: original.record,
          group: original.group,
          partition: original.partition,
          offset: original.offset,
          attempt,
          ack: () => Promise.resolve(),
          retryLater: (delayMs: number, error: ErrorInfo) => {
            problems.push(`late duplicate of ${describe(original)} failed (${error.message}); retried`);
            retry = { delayMs };
            return Promise.resolve();
          },
          deadLetter: (failure: DeadLetterFailure) => {
            problems.push(
              `late duplicate of ${describe(original)} was dead-lettered (${failure.reason}: ${failure.error.message})`,
            );
            return Promise.resolve();
          },
        };
        try {
          await lanes.run(original.record.key, () => onDelivery(late));
        } finally {
          if (retry !== undefined) deliverLateDuplicate(original, attempt + 1, retry.delayMs);
          done();
        }
      })();
    };

    const handle = async (delivery: Delivery): Promise<void> => {
      const done = busy();
      try {
        const eventId = delivery.record.attributes.id ?? `${delivery.partition}/${delivery.offset}`;
        const nth = (seen.get(eventId) ?? 0) + 1;
        seen.set(eventId, nth);
        const name = names.nameOf(delivery.record);
        const mark = board.started();
        if (inject('reorder', options.reorder, delivery.record, group, name, nth)) {
          await board.hold(mark, delivery.record.key, options.maxHoldMs);
        }
        if (inject('delay', options.delay, delivery.record, group, name, nth)) {
          await sleep(Math.floor(roll(options.seed, 'delay-ms', name, nth) * (options.maxDelayMs + 1)));
        }
        const lateDuplicate = inject('duplicate', options.duplicate, delivery.record, group, name, nth);
        let copy = 0;
        for (;;) {
          copy++;
          let redeliver = false;
          let settled = false;
          const settleOnce = (what: string): void => {
            if (settled) problems.push(`${what} after the delivery of ${describe(delivery)} was settled`);
            settled = true;
          };
          const view: Delivery = {
            record: delivery.record,
            group: delivery.group,
            partition: delivery.partition,
            offset: delivery.offset,
            attempt: copy === 1 ? delivery.attempt : 1,
            ack: async () => {
              settleOnce('ack');
              if (
                inject(
                  'crash-before-ack',
                  options.crashBeforeAck,
                  delivery.record,
                  group,
                  name,
                  nth * 100 + copy,
                )
              ) {
                redeliver = true;
                return;
              }
              if (inject('ack-error', options.ackError, delivery.record, group, name, nth * 100 + copy)) {
                redeliver = true;
                throw transientError('ack failed; the broker will redeliver');
              }
              await delivery.ack();
              if (lateDuplicate) {
                deliverLateDuplicate(
                  delivery,
                  1,
                  Math.floor(roll(options.seed, 'late-ms', name) * (options.maxDelayMs + 1)),
                );
              }
            },
            retryLater: (delayMs, error) => {
              settleOnce('retryLater');
              return delivery.retryLater(delayMs, error);
            },
            deadLetter: (failure) => {
              settleOnce('deadLetter');
              return delivery.deadLetter(failure);
            },
          };
          await lanes.run(delivery.record.key, () => onDelivery(view));
          if (!redeliver) break;
        }
        board.finished(mark, delivery.record.key);
      } finally {
        done();
      }
    };
    return transport.subscribe(subscribeOptions, handle);
  }

  const counts = (): Record<FaultKind, number> => {
    const result = emptyFaultCounts();
    for (const fault of injected) result[fault.kind]++;
    return result;
  };

  async function quiet({ quietMs = 100, timeoutMs = 15_000 }: QuietOptions = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (active === 0 && Date.now() - lastActivity >= quietMs) return;
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for the faulty transport to be quiet (${active} active)`,
        );
      }
      await sleep(Math.min(10, quietMs));
    }
  }

  const faulty: FaultyTransport = {
    name: transport.name,
    capabilities: transport.capabilities,
    inner: transport,
    options,
    injected,
    problems,
    counts,
    quiet,
    publish,
    subscribe,
    close: (closeOptions) => transport.close(closeOptions),
    ...(transport.deadLetters === undefined ? {} : { deadLetters: transport.deadLetters }),
    ...(transport.seek === undefined ? {} : { seek: transport.seek.bind(transport) }),
    ...(transport.consumerLag === undefined ? {} : { consumerLag: transport.consumerLag.bind(transport) }),
  };
  return faulty;
}

function describe(delivery: Delivery): string {
  const { record } = delivery;
  return `${record.attributes.type ?? 'record'} ${record.attributes.id ?? ''} (${record.topic}, key ${record.key ?? '-'}, group ${delivery.group})`;
}
