import { it } from 'node:test';
import { decodeRecord } from '../../codec.ts';
import { isPermanent } from '../../errors.ts';
import { defineEvent } from '../../event-definition.ts';
import { createPublisher, type Publisher } from '../../publisher.ts';
import type { Subscription, Transport } from '../../transport.ts';
import { testSchema } from '../test-schema.ts';
import type { ContractContext } from './context.ts';
import { uniqueName, waitFor } from '../wait.ts';

/**
 * How the contract suite cuts a transport off its broker, for the reconnect case: transports of their own (often
 * on a private server, or under a connection name nothing else uses), and the fault. Or, where the fault cannot
 * be made here, why not: the case is then skipped with that reason.
 */
export type ConnectionFault =
  | {
      /** A new transport the fault reaches. */
      create(): Transport | Promise<Transport>;
      /**
       * Cuts every connection of the transports `create` made — the broker drops them, or the broker restarts —
       * and resolves once the broker accepts connections again. Reconnecting is the transports' own work.
       */
      interrupt(): Promise<void>;
    }
  | { readonly unsupported: string };

const Ping = (topic: string) =>
  defineEvent({ type: 'ContractReconnectPinged', topic, schema: testSchema, key: (data) => data.key });

/**
 * Publishes, retrying while the transport reconnects (as an outbox relay does) until `timeoutMs`. A permanent
 * error fails at once. Resolves with the id of the event the transport accepted.
 */
/** The least time the case waits for the transport to recover from the interruption. */
const RECOVERY_BOUND_MS = 60_000;

async function publishRetrying(
  publisher: Publisher,
  topic: string,
  data: { key: string; seq: number },
  timeoutMs: number,
): Promise<string> {
  let id: string | undefined;
  await waitFor(
    async () => {
      try {
        id = (await publisher.publish(Ping(topic), data)).id;
        return true;
      } catch (error) {
        if (isPermanent(error)) throw error;
        return false;
      }
    },
    timeoutMs,
    `a publish of ${data.key}#${data.seq} after the interruption`,
  );
  return id!;
}

/**
 * The reconnect case (Watermill's universal tests have it too): events published before the broker drops the
 * connections — handled, held by a handler at the moment of the drop, or still waiting — and events published
 * after are all handled and acknowledged, at least once, by the same subscription, without resubscribing.
 */
export function registerReconnectCase(fault: ConnectionFault | undefined, timeoutMs: number): void {
  it('reconnects after the connections drop: nothing published before or after is lost', async (ctx) => {
    if (fault === undefined) {
      ctx.skip('connectionFault not declared');
      return;
    }
    if ('unsupported' in fault) {
      ctx.skip(`connection faults cannot be made here: ${fault.unsupported}`);
      return;
    }
    const t = await fault.create();
    let subscription: Subscription | undefined;
    try {
      const topic = uniqueName('reconnect');
      const acked = new Set<string>();
      let holding = 0;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      subscription = t.subscribe(
        { group: uniqueName('g'), topics: [topic], concurrency: 4 },
        async (delivery) => {
          const event = decodeRecord(delivery.record);
          if ((event.data as { key: string }).key === 'held' && !acked.has(event.id)) {
            // Handled across the drop: its ack may fail with the connection; then it must come again.
            holding++;
            await released;
          }
          await delivery.ack();
          acked.add(event.id);
        },
      );
      await subscription.ready;
      const publisher = createPublisher({ transport: t, source: '/herald/contract' });
      const before: string[] = [];
      for (let seq = 0; seq < 3; seq++) {
        for (const key of ['a', 'b', 'held'])
          before.push((await publisher.publish(Ping(topic), { key, seq })).id);
      }
      const settledBefore = before.filter((_, i) => i % 3 !== 2);
      await waitFor(
        () => holding > 0 && settledBefore.every((id) => acked.has(id)),
        timeoutMs,
        'the events before the interruption',
      );

      await fault.interrupt();
      release();
      // Reconnecting takes the client's backoff plus the broker's own recovery, slow on a loaded machine: a
      // bound of its own, never below a minute (a bound on the outcome, not a speed assertion).
      const recoveryMs = Math.max(timeoutMs, RECOVERY_BOUND_MS);
      const after: string[] = [];
      for (let seq = 3; seq < 6; seq++) {
        for (const key of ['a', 'b'])
          after.push(await publishRetrying(publisher, topic, { key, seq }, recoveryMs));
      }
      await waitFor(
        () => [...before, ...after].every((id) => acked.has(id)),
        recoveryMs,
        'every event published before and after the interruption',
      );
    } finally {
      await subscription?.close({ timeoutMs: 1000 }).catch(() => undefined);
      await t.close({ timeoutMs: 1000 });
    }
  });
}

/** Registers the reconnect case with the target's declared {@link ConnectionFault}. */
export function reconnectCases(c: ContractContext): void {
  registerReconnectCase(c.target.connectionFault, c.timeoutMs);
}
