import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPublisher,
  createRouter,
  defineEvent,
  ErrorCodes,
  HeraldError,
  idempotency,
  memory,
  memoryInbox,
  silentHeraldLogger,
  type CloudEvent,
} from '@herald/core';
import {
  checkIdempotent,
  checkOrderSafe,
  testSchema,
  uniqueName,
  waitFor,
  withFaults,
  type FaultyTransport,
  type PingData,
} from '@herald/core/testing';

const ACCOUNTS = ['ada', 'bob', 'cy', 'dee', 'eve'];
const EVENTS = 30;

/**
 * A small system: deposits keyed by account, `EVENTS` of them round-robin over the accounts, each worth its
 * sequence number. `react` is the consumer under test; the scenario returns what it built.
 */
function bank<Outcome>(react: (event: CloudEvent<PingData>) => void, outcome: () => Outcome, dedupe = false) {
  return async (transport: FaultyTransport): Promise<Outcome> => {
    const Deposited = defineEvent({
      type: 'Deposited',
      topic: uniqueName('deposits'),
      schema: testSchema,
      key: (d) => d.key,
    });
    const seen = new Set<string>();
    const router = createRouter({
      transport,
      group: uniqueName('bank'),
      source: '/test/bank',
      concurrency: 8,
      retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 2 } },
      redelivery: false,
      logger: silentHeraldLogger,
      onError: () => undefined,
      ...(dedupe ? { middleware: [idempotency({ inbox: memoryInbox() })] } : {}),
    }).on(Deposited, (event) => {
      seen.add(event.id);
      react(event);
    });
    await router.start();
    const publisher = createPublisher({ transport: transport.inner, source: '/test/teller' });
    for (let seq = 1; seq <= EVENTS; seq++) {
      await publisher.publish(Deposited, { key: ACCOUNTS[seq % ACCOUNTS.length]!, seq });
    }
    await waitFor(() => seen.size === EVENTS, 10_000, 'every deposit handled');
    await transport.quiet();
    await router.close();
    await transport.close();
    return outcome();
  };
}

/** Balances per account: `+= seq` on each deposit; idempotent only with the inbox. */
function balances(dedupe: boolean) {
  let totals: Record<string, number> = {};
  return bank(
    (event) => {
      totals[event.data.key] = (totals[event.data.key] ?? 0) + event.data.seq;
    },
    () => {
      const result = totals;
      totals = {};
      return result;
    },
    dedupe,
  );
}

describe('fault-injection kit', () => {
  it('catches a handler that is not idempotent, naming the seed that reproduces it', async () => {
    await assert.rejects(checkIdempotent(balances(false), { seed: 7, runs: 3 }), (error: Error) => {
      assert.match(
        error.message,
        /differs from the fault-free run \(seed \d+; injected .*(duplicate|crash-before-ack)/,
      );
      assert.match(error.message, /Reproduce with \{ seed: \d+, runs: 1 \}/);
      return true;
    });
  });

  it('passes the same handler behind the idempotency middleware, with faults injected in every run', async () => {
    const report = await checkIdempotent(balances(true), { seed: 7, runs: 3 });
    assert.deepEqual(report.seeds, [7, 8, 9]);
    assert.ok(report.injected.duplicate > 0, 'late duplicates injected');
    assert.ok(report.injected['crash-before-ack'] > 0, 'crashes between commit and ack injected');
  });

  it('catches a handler that depends on the order across keys', async () => {
    let feed: string[] = [];
    const activityFeed = bank(
      (event) => feed.push(event.data.key),
      () => {
        const result = feed;
        feed = [];
        return result;
      },
    );
    await assert.rejects(
      checkOrderSafe(activityFeed, { seed: 3, runs: 3 }),
      /differs from the fault-free run/,
    );
  });

  it('never reorders within a key: per-account histories stay in publish order under reordering and delays', async () => {
    let history: Record<string, number[]> = {};
    const statements = bank(
      (event) => (history[event.data.key] ??= []).push(event.data.seq),
      () => {
        const result = history;
        history = {};
        return result;
      },
    );
    const report = await checkOrderSafe(statements, { seed: 3, runs: 3 });
    assert.ok(report.injected.reorder > 0 && report.injected.delay > 0, 'reorders and delays injected');
  });

  it('injects the same faults for the same seed', async () => {
    const kinds = async (seed: number) => {
      const transport = withFaults(memory(), { seed, duplicate: 0.3, crashBeforeAck: 0.3, reorder: 0.3 });
      await balances(true)(transport);
      return transport.injected.map((f) => `${f.kind}:${f.key}`).sort();
    };
    const first = await kinds(11);
    assert.ok(first.length > 0);
    assert.deepEqual(await kinds(11), first);
    assert.notDeepEqual(await kinds(12), first);
  });

  it('fails publishes transiently, before or after the broker stored them', async () => {
    const transport = withFaults(memory(), { seed: 5, publishError: 0.5, publishLostAck: 0.5 });
    const Pinged = defineEvent({ type: 'Pinged', topic: uniqueName('t'), schema: testSchema });
    const publisher = createPublisher({ transport, source: '/test' });
    const outcomes = { failedBefore: 0, failedAfter: 0, ok: 0 };
    for (let seq = 0; seq < 40; seq++) {
      const before = transport.counts();
      try {
        await publisher.publish(Pinged, { key: 'k', seq });
        outcomes.ok++;
      } catch (error) {
        assert.ok(error instanceof HeraldError && error.code === ErrorCodes.TRANSPORT);
        const after = transport.counts();
        if (after['publish-error'] > before['publish-error']) outcomes.failedBefore++;
        else outcomes.failedAfter++;
      }
    }
    assert.ok(
      outcomes.failedBefore > 0 && outcomes.failedAfter > 0 && outcomes.ok > 0,
      JSON.stringify(outcomes),
    );
    // What was stored: every call that succeeded or lost only its acknowledgement.
    const stored: number[] = [];
    const subscription = transport.inner.subscribe(
      { group: uniqueName('g'), topics: [Pinged.topic], concurrency: 1 },
      async (delivery) => {
        stored.push(1);
        await delivery.ack();
      },
    );
    await waitFor(() => stored.length === outcomes.ok + outcomes.failedAfter, 5000, 'stored records');
    await subscription.close();
    await transport.close();
  });

  it('a failed ack is reported to the caller and the record comes again', async () => {
    const transport = withFaults(memory(), { seed: 2, ackError: 1, maxFaultsPerEvent: 1 });
    const topic = uniqueName('t');
    const attempts: string[] = [];
    const ackErrors: unknown[] = [];
    const subscription = transport.subscribe(
      { group: 'g', topics: [topic], concurrency: 1 },
      async (delivery) => {
        attempts.push(delivery.record.attributes.id!);
        await delivery.ack().catch((error: unknown) => ackErrors.push(error));
      },
    );
    await subscription.ready;
    await transport.publish([
      { topic, key: 'k', attributes: { id: 'e1', type: 'T' }, data: new Uint8Array() },
    ]);
    await waitFor(() => attempts.length === 2, 5000, 'the redelivery');
    assert.deepEqual(attempts, ['e1', 'e1']);
    assert.equal(ackErrors.length, 1);
    await subscription.close();
    await transport.close();
  });

  it('rejects a bad option at once, naming it', () => {
    assert.throws(() => withFaults(memory(), { duplicate: 2 }), /faults\.duplicate/);
  });
});
