import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Transport } from '../../transport.ts';
import { delay, uniqueName, waitFor } from '../wait.ts';
import { assertAckedStaysAcked } from './acked-stays-acked.ts';
import { type ContractContext, type Received } from './context.ts';

/** What {@link LeaseFault.provoke} works with. */
export interface LeaseScene {
  readonly group: string;
  readonly topic: string;
  /** Subscribes a new member of the group, on a new transport, with the case's handler; resolves when ready. */
  join(): Promise<void>;
}

/**
 * How the lease-loss case makes a member lose the lease of deliveries it is running, the way it happens in
 * production (another member joining and taking partitions, the broker closing the member's connection, its
 * visibility running out while its heartbeats fail). Or, where that cannot be made here, why not: the case is then
 * skipped with that reason.
 */
export type LeaseFault =
  | {
      /** The member that loses its lease, on a transport of its own (default: the target's). The case closes it. */
      create?(): Transport | Promise<Transport>;
      /** Makes `victim`'s subscription lose the lease of some or all of the deliveries it is running now. */
      provoke(victim: Transport, scene: LeaseScene): Promise<void>;
    }
  | { readonly unsupported: string };

/** How many times the lease timeout the long handler runs. */
const LEASE_MULTIPLE = 3;
/** Keys of the lease-loss case: enough that every partition of every target holds one. */
const LOST_KEYS = Array.from({ length: 16 }, (_, i) => `lease-${i}`);

/** Long handlers: a handler may outlive the lease timeout; a lease really lost aborts `delivery.signal`. */
export function longHandlerCases(c: ContractContext): void {
  const { target, transport, transportWith, subscribe, publishPings, timeoutMs, rebalanceMs } = c;

  it('keeps the lease of a handler that runs several times the lease timeout', async (ctx) => {
    const first = await transportWith(ctx, 'longHandlers');
    if (first === undefined) return;
    const leaseMs = target.leaseTimeoutMs;
    assert.ok(leaseMs !== undefined, 'a target declaring longHandlers gives leaseTimeoutMs');
    const runMs = LEASE_MULTIPLE * leaseMs;
    const group = uniqueName('long');
    const topic = uniqueName('long');
    const deliveries: { id: string; signal: AbortSignal | undefined }[] = [];
    const acked: string[] = [];
    // Two members: a lease that lapsed would hand the event to the other one (or back to the first).
    const handler = async ({ event, delivery }: Received): Promise<void> => {
      deliveries.push({ id: event.id, signal: delivery.signal });
      if (deliveries.length === 1) await delay(runMs);
      await delivery.ack();
      acked.push(event.id);
    };
    const members = [
      subscribe(first, group, topic, handler),
      subscribe(await transport(), group, topic, handler),
    ];
    await Promise.all(members.map((m) => m.ready));
    await delay(rebalanceMs);
    await publishPings(first, topic, ['slow'], 1);
    await waitFor(() => acked.length >= 1, runMs + timeoutMs, 'the long handler to finish');
    // A redelivery after a lapsed lease would have come while the handler ran; give a late one a lease timeout.
    await delay(leaseMs);
    assert.equal(
      deliveries.length,
      1,
      `delivered once while the handler ran ${runMs} ms (lease ${leaseMs} ms)`,
    );
    assert.equal(deliveries[0]!.signal?.aborted ?? false, false, 'the delivery kept its lease');

    // The ack held: a new member of the group gets only what is published next.
    await Promise.all(members.map((m) => m.close()));
    await assertAckedStaysAcked(c, first, group, topic, 'the long-handled event was acked');
  });

  it('aborts the signal of a delivery whose lease is lost, and redelivers it', async (ctx) => {
    const fault = target.leaseFault;
    if (fault === undefined) {
      ctx.skip('leaseFault not declared');
      return;
    }
    if ('unsupported' in fault) {
      ctx.skip(`a lost lease cannot be provoked here: ${fault.unsupported}`);
      return;
    }
    const victim = fault.create === undefined ? await transport() : await fault.create();
    try {
      await leaseLossScenario(c, victim, (v, scene) => fault.provoke(v, scene));
    } finally {
      if (fault.create !== undefined) await victim.close({ timeoutMs: 100 }).catch(() => undefined);
    }
  });

  async function leaseLossScenario(
    context: ContractContext,
    victim: Transport,
    provoke: (victim: Transport, scene: LeaseScene) => Promise<void>,
  ): Promise<void> {
    const group = uniqueName('lease');
    const topic = uniqueName('lease');
    /** The first delivery of each event (all of them the victim's), and how its handler ended. */
    const first = new Map<string, { signal: AbortSignal | undefined; outcome?: 'lost' | 'acked' }>();
    const again: string[] = [];
    const acked = new Set<string>();
    let released = false;
    const wake = new Set<() => void>();
    const handler = async ({ event, delivery }: Received): Promise<void> => {
      if (first.has(event.id)) {
        again.push(event.id);
        await delivery.ack();
        acked.add(event.id);
        return;
      }
      const { signal } = delivery;
      const entry: { signal: AbortSignal | undefined; outcome?: 'lost' | 'acked' } = { signal };
      first.set(event.id, entry);
      // Held until the lease is lost, or until the case lets the members that kept theirs finish.
      await new Promise<void>((resolve) => {
        if (released || signal?.aborted === true) resolve();
        wake.add(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      if (signal?.aborted === true) {
        // As the router does: a delivery whose lease is lost is not settled (it is redelivered).
        entry.outcome = 'lost';
        return;
      }
      await delivery.ack();
      entry.outcome = 'acked';
      acked.add(event.id);
    };
    await subscribe(victim, group, topic, handler, LOST_KEYS.length).ready;
    await publishPings(victim, topic, LOST_KEYS, 1);
    await waitFor(
      () => first.size === LOST_KEYS.length,
      timeoutMs,
      'every event running at the first member',
    );
    assert.ok(
      [...first.values()].every((f) => f.signal !== undefined),
      'the transport gives its deliveries a signal',
    );

    await provoke(victim, {
      group,
      topic,
      join: async () => {
        await subscribe(await context.transport(), group, topic, handler, LOST_KEYS.length).ready;
      },
    });
    const aborted = (): number => [...first.values()].filter((f) => f.signal?.aborted === true).length;
    await waitFor(() => aborted() > 0, timeoutMs + rebalanceMs, 'a lost lease');
    // Other leases may be lost in the same rebalance; then the members that kept theirs finish.
    await delay(rebalanceMs);
    released = true;
    for (const resolve of wake) resolve();
    await waitFor(() => acked.size === LOST_KEYS.length, timeoutMs + rebalanceMs, 'every event acked');
    await delay(rebalanceMs);

    const lost = [...first].filter(([, f]) => f.outcome === 'lost');
    assert.ok(lost.length > 0, 'some delivery lost its lease while its handler ran');
    for (const [id, { signal }] of lost) {
      assert.equal((signal!.reason as { code?: unknown }).code, 'HERALD_LEASE_LOST', `the reason (${id})`);
      assert.ok(again.includes(id), `an event whose lease was lost was delivered again (${id})`);
    }
    // The other way round too: a member whose delivery was handed to another learns of it (maybe only after it
    // settled, when its commit is refused).
    await waitFor(
      () => again.every((id) => first.get(id)?.signal?.aborted === true),
      timeoutMs,
      'every member whose delivery went elsewhere to be told',
    );
  }
}
