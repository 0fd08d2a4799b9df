import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { createPublisher } from '../../publisher.ts';
import type { Transport } from '../../transport.ts';
import { spawnTestChild } from '../child-process.ts';
import { uniqueName, waitFor } from '../wait.ts';
import { assertAckedStaysAcked } from './acked-stays-acked.ts';
import { consumeBatch } from './consume-batch.ts';
import { Ping, type ContractContext, type Received } from './context.ts';

/** Redelivery: `retryLater` and its delay, ordered redelivery, abandoned and killed consumers, no redelivery of acked records. */
export function redeliveryCases(c: ContractContext): void {
  const { target, transport, transportWith, subscribe, acking, publishPings, timeoutMs, rebalanceMs } = c;
  it('redelivers after retryLater, with the next attempt number', async () => {
    const t = await transport();
    const topic = uniqueName('nack');
    const attempts: number[] = [];
    await subscribe(t, uniqueName('g'), topic, async ({ delivery }) => {
      attempts.push(delivery.attempt);
      if (delivery.attempt === 1) await delivery.retryLater(10, { name: 'Error', message: 'try again' });
      else await delivery.ack();
    }).ready;
    await publishPings(t, topic, ['k'], 1);
    await waitFor(() => attempts.length === 2, timeoutMs, 'the redelivery');
    assert.deepEqual(attempts, [1, 2]);
  });

  async function delayScenario(t: Transport): Promise<{ log: string[]; redeliveredAfter: number }> {
    const topic = uniqueName('delay');
    const log: string[] = [];
    let parkedAt = 0;
    let redeliveredAfter = 0;
    await subscribe(t, uniqueName('g'), topic, async ({ event, delivery }) => {
      const data = event.data as { key: string; seq: number };
      if (data.key === 'slow' && data.seq === 0 && delivery.attempt === 1) {
        parkedAt = Date.now();
        await delivery.retryLater(400, { name: 'Error', message: 'later' });
        return;
      }
      if (data.key === 'slow' && data.seq === 0) redeliveredAfter = Date.now() - parkedAt;
      log.push(`${data.key}${data.seq}`);
      await delivery.ack();
    }).ready;
    const publisher = createPublisher({ transport: t, source: '/herald/contract' });
    await publisher.publish(Ping(topic), { key: 'slow', seq: 0 });
    await publisher.publish(Ping(topic), { key: 'slow', seq: 1 });
    await publisher.publish(Ping(topic), { key: 'fast', seq: 0 });
    await waitFor(() => log.length === 3, timeoutMs, 'all three');
    return { log, redeliveredAfter };
  }

  it('delays a redelivery without blocking other keys', async (ctx) => {
    const t = await transportWith(ctx, 'delayedDelivery');
    if (t === undefined) return;
    const { log, redeliveredAfter } = await delayScenario(t);
    assert.ok(log.indexOf('fast0') < log.indexOf('slow0'), `other keys flowed meanwhile: ${log.join(',')}`);
    assert.ok(redeliveredAfter >= 350, `the delay was honoured (${redeliveredAfter} ms)`);
  });

  it('keeps a redelivered record ahead of later records with its key', async (ctx) => {
    const t = await transportWith(ctx, 'orderedRedelivery');
    if (t === undefined) return;
    const { log } = await delayScenario(t);
    assert.ok(
      log.indexOf('slow0') < log.indexOf('slow1'),
      `the failing key kept its order: ${log.join(',')}`,
    );
  });

  it('redelivers what an abandoned consumer did not settle', async () => {
    const group = uniqueName('abandon');
    const topic = uniqueName('abandon');
    const t1 = await transport();
    let started = false;
    const first = subscribe(t1, group, topic, () => {
      started = true;
      return new Promise<void>(() => undefined);
    });
    await first.ready;
    await publishPings(t1, topic, ['k'], 1);
    await waitFor(() => started, timeoutMs, 'the first delivery');
    await first.close({ timeoutMs: 0 });
    const again: Received[] = [];
    await subscribe(await transport(), group, topic, acking(again)).ready;
    await waitFor(() => again.length === 1, timeoutMs + rebalanceMs, 'the redelivery');
  });

  it('redelivers after the consumer process is killed before its ack', async (ctx) => {
    if (target.childModule === undefined) {
      ctx.skip('in-process transport: covered by the abandoned-consumer test');
      return;
    }
    const group = uniqueName('killed');
    const topic = uniqueName('killed');
    // From sources the child is `.ts` run under tsx; from the published build it is plain `.js`.
    const fromSource = import.meta.url.endsWith('.ts');
    const script = fileURLToPath(
      new URL(fromSource ? '../crash-child.ts' : '../crash-child.js', import.meta.url),
    );
    const loader = fromSource ? ['--import', 'tsx'] : [];
    const child = spawnTestChild(loader, script, [target.childModule, topic, group]);
    try {
      await waitFor(() => child.output().includes('READY'), timeoutMs, 'the child to join');
      const t = await transport();
      await publishPings(t, topic, ['k'], 1);
      assert.equal(await child.exited, 'SIGKILL');
      const id = /DELIVERED (\S+)/.exec(child.output())?.[1];
      assert.ok(id, 'the child received the event before dying');
      const again: Received[] = [];
      await subscribe(t, group, topic, acking(again)).ready;
      await waitFor(() => again.length >= 1, timeoutMs + rebalanceMs, 'the redelivery');
      assert.equal(again[0]!.event.id, id);
    } finally {
      child.kill();
    }
  });

  it('does not redeliver what was acked', async () => {
    const group = uniqueName('acked');
    const topic = uniqueName('acked');
    const t = await transport();
    await consumeBatch(c, t, group, topic, {
      keys: ['a', 'b'],
      perKey: 5,
      what: 'the first batch',
    });
    await assertAckedStaysAcked(c, t, group, topic);
  });
}
