import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createPublisher } from '../../publisher.ts';
import { DELIVER_AT_ATTRIBUTE } from '../../scheduled-delivery.ts';
import { delay, uniqueName, waitFor } from '../wait.ts';
import { Ping, type ContractContext, type Received } from './context.ts';

/** How far ahead the cases schedule: long enough to see "not yet", short enough for a quick suite. */
const DELAY_MS = 1200;

interface Arrival {
  readonly received: Received;
  readonly at: number;
}

/** Scheduled delivery (`scheduledDelivery`): held until due, then delivered once, without holding back its key. */
export function scheduledDeliveryCases(c: ContractContext): void {
  const { transport, transportWith, subscribe, timeoutMs } = c;

  const collect = (into: Arrival[]) => async (received: Received) => {
    into.push({ received, at: Date.now() });
    await received.delivery.ack();
  };
  const seqs = (arrivals: readonly Arrival[]): number[] =>
    arrivals.map((a) => (a.received.event.data as { seq: number }).seq);

  it('holds an event published with a delay until it is due, then delivers it once', async (ctx) => {
    const t = await transportWith(ctx, 'scheduledDelivery');
    if (t === undefined) return;
    const topic = uniqueName('sched');
    const arrivals: Arrival[] = [];
    await subscribe(t, uniqueName('g'), topic, collect(arrivals)).ready;
    const publisher = createPublisher({ transport: t, source: '/herald/contract' });
    const publishedAt = Date.now();
    const held = await publisher.publish(Ping(topic), { key: 'k', seq: 0 }, { delay: DELAY_MS });
    // The same key, published after it and due now: not held back behind the scheduled one.
    await publisher.publish(Ping(topic), { key: 'k', seq: 1 });
    const heldAt = held.extensions?.[DELIVER_AT_ATTRIBUTE];
    assert.ok(heldAt !== undefined, 'the event says when it is due');
    const due = Date.parse(heldAt);
    assert.ok(due >= publishedAt + DELAY_MS, `due ${heldAt}, published at ${publishedAt} + ${DELAY_MS}`);

    await waitFor(() => arrivals.length >= 1, timeoutMs, 'the unscheduled event');
    assert.deepEqual(seqs(arrivals), [1], 'the unscheduled event of the same key came first, alone');
    await delay(Math.max(0, publishedAt + DELAY_MS / 2 - Date.now()));
    assert.deepEqual(seqs(arrivals), [1], 'nothing delivered before half the delay');

    await waitFor(() => arrivals.length >= 2, DELAY_MS + timeoutMs, 'the scheduled event');
    const scheduled = arrivals[1]!;
    assert.deepEqual(seqs(arrivals), [1, 0]);
    assert.ok(scheduled.at >= due, `delivered at ${scheduled.at}, not before its due time ${due}`);
    assert.equal(
      scheduled.received.event.extensions?.[DELIVER_AT_ATTRIBUTE],
      heldAt,
      'the event still says when it was due',
    );
    // A second release (two releasers, a retried one) would come right after the first.
    await delay(500);
    assert.equal(arrivals.length, 2, 'delivered once');
  });

  it('delivers an event whose deliverAt has passed at once', async (ctx) => {
    const t = await transportWith(ctx, 'scheduledDelivery');
    if (t === undefined) return;
    const topic = uniqueName('sched-past');
    const arrivals: Arrival[] = [];
    await subscribe(t, uniqueName('g'), topic, collect(arrivals)).ready;
    const publisher = createPublisher({ transport: t, source: '/herald/contract' });
    const publishedAt = Date.now();
    await publisher.publish(Ping(topic), { key: 'k', seq: 0 }, { deliverAt: new Date(publishedAt - 60_000) });
    await waitFor(() => arrivals.length >= 1, timeoutMs, 'the past-due event');
    // Not held until a releaser's next look: delivered like an unscheduled event.
    assert.ok(
      arrivals[0]!.at - publishedAt < DELAY_MS,
      `delivered ${arrivals[0]!.at - publishedAt} ms after publish`,
    );
  });

  it('releases a held event after the transport that published it closed', async (ctx) => {
    const publishing = await transportWith(ctx, 'scheduledDelivery');
    if (publishing === undefined) return;
    if (!publishing.capabilities.persistent || !publishing.capabilities.crossProcess) {
      ctx.skip('needs a persistent, cross-process transport: the hold must outlive its publisher');
      return;
    }
    const topic = uniqueName('sched-handover');
    const group = uniqueName('g');
    const publisher = createPublisher({ transport: publishing, source: '/herald/contract' });
    const held = await publisher.publish(Ping(topic), { key: 'k', seq: 0 }, { delay: DELAY_MS });
    await publishing.close();
    // Another process: it never saw the publish, and releases the held event when due.
    const arrivals: Arrival[] = [];
    await subscribe(await transport(), group, topic, collect(arrivals)).ready;
    await waitFor(() => arrivals.length >= 1, DELAY_MS + timeoutMs, 'the held event, from another process');
    const due = Date.parse(held.extensions![DELIVER_AT_ATTRIBUTE]!);
    assert.ok(arrivals[0]!.at >= due, 'not before its due time');
    await delay(500);
    assert.equal(arrivals.length, 1, 'delivered once');
  });
}
