import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createEvent, encodeEvent, HeraldError, type Transport, type TransportRecord } from '@herald/core';
import { delay, waitFor } from '@herald/core/testing';
import { postgresOutboxRelay, transaction, type PostgresOutbox } from '../src/index.ts';
import { skipUnlessDatabase } from './helpers.ts';
import { collect, numberedEvent, type Received } from './fixtures/numbered-events.ts';
import { outboxSuite } from './fixtures/outbox-suite.ts';

const Counted = numberedEvent('Counted', 'counts');

/** First occurrence of each event id, grouped by key, in delivery order. */
function firstByKey(received: readonly Received[]): Map<string, number[]> {
  const seen = new Set<string>();
  const byKey = new Map<string, number[]>();
  for (const { id, key, n } of received) {
    if (seen.has(id)) continue;
    seen.add(id);
    byKey.set(key, [...(byKey.get(key) ?? []), n]);
  }
  return byKey;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Wraps a transport: `before` runs ahead of each publish (to delay or fail it), `afterPublish` after it. */
function wrap(
  transport: Transport,
  hooks: { before?: () => Promise<void>; afterPublish?: () => void },
): Transport & { calls: number } {
  const wrapped = {
    name: transport.name,
    capabilities: transport.capabilities,
    calls: 0,
    async publish(records: readonly TransportRecord[]) {
      wrapped.calls++;
      await hooks.before?.();
      const receipts = await transport.publish(records);
      hooks.afterPublish?.();
      return receipts;
    },
    subscribe: transport.subscribe.bind(transport),
    close: transport.close.bind(transport),
  };
  return wrapped;
}

/** A transport that acknowledges every publish at once and delivers nothing. */
function nullTransport(): Transport {
  return {
    name: 'null',
    capabilities: {
      persistent: false,
      crossProcess: false,
      orderedPerKey: true,
      delayedDelivery: false,
      orderedRedelivery: false,
      deadLetterQueue: false,
      replay: false,
      longHandlers: false,
      scheduledDelivery: false,
    },
    publish: (records) =>
      Promise.resolve(records.map((record) => ({ topic: record.topic, partition: 0, offset: '0' }))),
    subscribe: () => {
      throw new Error('the null transport delivers nothing');
    },
    close: () => Promise.resolve(),
  };
}

describe('postgres outbox relay', { skip: skipUnlessDatabase }, () => {
  const releases: (() => void)[] = [];
  // A failed test may have left a publish held: a relay's close waits for its batch in flight. Registered before
  // the suite's own cleanup, so it runs first.
  after(() => {
    for (const release of releases) release();
  });
  const {
    setup,
    relay,
    transport: memoryTransport,
    endAfter,
  } = outboxSuite({
    source: '/test/relay',
    pollIntervalMs: 200,
  });
  const transport = (): Transport => memoryTransport(8);

  /** A gate that holds publishes until released; released at the end of the suite whatever happens. */
  function holdPublishes(): { gate: Promise<void>; release: () => void } {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    releases.push(release);
    return { gate, release };
  }

  async function write(outbox: PostgresOutbox, key: string, ns: readonly number[]): Promise<void> {
    await transaction(outbox.pool, async (client) => {
      for (const n of ns) await outbox.emit(client, Counted, { key, n });
    });
  }

  it('keeps order per key with two relays running concurrently (1,000 rows, 20 keys), and leaves no rows', async () => {
    const { outbox, open } = await setup('order');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    // Each relay is another process: its own pool, and a publish that takes a random 0-6 ms, so the two relays
    // interleave their claims as much as possible.
    const jitter = () => delay(Math.random() * 6);
    const relayA = relay({
      outbox: await open(),
      transport: wrap(bus, { before: jitter }),
      batchSize: 20,
      partitionsPerClaim: 2,
    });
    const relayB = relay({
      outbox: await open(),
      transport: wrap(bus, { before: jitter }),
      batchSize: 20,
      partitionsPerClaim: 2,
    });

    // 20 writers (one per key), in transactions of 1 or 2 events: the first half of each key is a backlog the
    // relays compete for when they start, the second half is written while they run.
    const keys = range(20).map((k) => `key-${k}`);
    const writeKeys = (from: number, to: number) =>
      Promise.all(
        keys.map(async (key) => {
          for (let n = from; n < to;) {
            const size = n % 3 === 0 && n < to - 1 ? 2 : 1;
            await write(
              outbox,
              key,
              range(size).map((i) => n + i),
            );
            n += size;
          }
        }),
      );
    await writeKeys(0, 25);
    await Promise.all([relayA.start(), relayB.start()]);
    await writeKeys(25, 50);
    await waitFor(() => received.length >= 1000, 30_000, '1,000 events delivered');
    await relayA.flush();

    const byKey = firstByKey(received);
    assert.equal(byKey.size, 20);
    for (const key of keys) assert.deepEqual(byKey.get(key), range(50), `order of ${key}`);
    assert.equal(received.length, 1000, 'no duplicates without failures');
    assert.ok(relayA.stats.published > 0 && relayB.stats.published > 0, 'both relays published');
    assert.equal(relayA.stats.published + relayB.stats.published, 1000);
    assert.equal(await outbox.pending(), 0, 'no rows left');
  });

  it('a second relay does not overtake a key whose batch another relay is still publishing', async () => {
    const { outbox, open } = await setup('overtake');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    const { gate, release } = holdPublishes();
    const held = wrap(bus, { before: () => gate });
    await write(outbox, 'k', range(10));
    const slow = relay({ outbox, transport: held, batchSize: 5 });
    await slow.start();
    await waitFor(() => held.calls === 1, 5000, 'the first relay to hold rows 0-4');
    // With FOR UPDATE SKIP LOCKED alone, this relay would skip rows 0-4 and publish 5-9 at once.
    const fast = relay({ outbox: await open(), transport: bus, batchSize: 5, pollIntervalMs: 20 });
    await fast.start();
    await delay(300);
    assert.equal(fast.stats.published, 0, 'the partition is held by the first relay');
    assert.equal(received.length, 0);
    release();
    await fast.flush();
    await waitFor(() => received.length === 10, 5000, 'all events');
    assert.deepEqual(
      received.map((r) => r.n),
      range(10),
    );
  });

  it('wakes on LISTEN/NOTIFY at commit, not at its poll', async () => {
    const { outbox } = await setup('listen');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    const listening = relay({ outbox, transport: bus, pollIntervalMs: 60_000 });
    await listening.start();
    assert.equal(listening.stats.listening, true);
    await delay(100); // The relay's first look at the (empty) outbox is done: it now sleeps for 60 s.

    const started = Date.now();
    await write(outbox, 'k', [1]);
    await waitFor(() => received.length === 1, 5000, 'the event after a commit');
    const latencyMs = Date.now() - started;
    assert.ok(latencyMs < 2000, `delivered in ${latencyMs} ms`);

    // The control: the same relay without LISTEN waits for its poll.
    await listening.close();
    const polling = relay({ outbox, transport: bus, pollIntervalMs: 60_000, listen: false });
    await polling.start();
    await delay(100);
    await write(outbox, 'k', [2]);
    await delay(500);
    assert.equal(received.length, 1, 'without LISTEN the row waits for the poll');
    await polling.close();
    assert.equal(await outbox.pending(), 1);
  });

  it('re-LISTENs after its LISTEN connection is killed', async () => {
    const { outbox, schema } = await setup('relisten');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    const relayed = relay({
      outbox,
      transport: bus,
      pollIntervalMs: 60_000,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    await relayed.start();
    const killed = await outbox.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`,
      [`LISTEN "herald_${schema}"`],
    );
    assert.equal(killed.rowCount, 1);
    await waitFor(() => !relayed.stats.listening, 5000, 'the relay to notice');
    await waitFor(() => relayed.stats.listening, 5000, 'the relay to LISTEN again');
    await write(outbox, 'k', [1]);
    await waitFor(() => received.length === 1, 3000, 'the event after a commit');
  });

  it('backs off on transport failures and publishes everything in order afterwards', async () => {
    const { outbox } = await setup('backoff');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    let failures = 3;
    const failing = wrap(bus, {
      before: () => {
        if (failures-- > 0) return Promise.reject(new HeraldError('HERALD_TRANSPORT', 'broker unreachable'));
        return Promise.resolve();
      },
    });
    for (const key of ['a', 'b', 'c']) await write(outbox, key, range(30));
    const errors: number[] = [];
    const relayed = relay({
      outbox,
      transport: failing,
      batchSize: 25,
      backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
      onError: (_error, consecutive) => errors.push(consecutive),
    });
    const started = Date.now();
    await relayed.start();
    await relayed.flush();
    assert.deepEqual(errors, [1, 2, 3]);
    assert.ok(Date.now() - started >= 20 + 40 + 80, 'waited out the backoff');
    assert.equal(relayed.stats.failures, 3);
    assert.equal(relayed.stats.consecutiveFailures, 0);
    assert.equal(relayed.stats.lastError?.code, 'HERALD_TRANSPORT');
    await waitFor(() => received.length === 90, 5000, 'all events');
    for (const [key, ns] of firstByKey(received)) assert.deepEqual(ns, range(30), `order of ${key}`);
  });

  it('re-sends a batch when it fails after the transport took it (at least once, order kept)', async () => {
    const { outbox } = await setup('resend');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    let crashes = 1;
    // The transport stores the batch, then the relay "crashes" before deleting it.
    const crashing = wrap(bus, {
      afterPublish: () => {
        if (crashes-- > 0) throw new Error('relay died after publish');
      },
    });
    for (const key of ['a', 'b']) await write(outbox, key, range(20));
    const relayed = relay({
      outbox,
      transport: crashing,
      batchSize: 10,
      backoff: { initialMs: 10, maxMs: 10 },
    });
    await relayed.start();
    await relayed.flush();
    await waitFor(() => new Set(received.map((r) => r.id)).size === 40, 5000, 'all events');
    assert.ok(received.length > 40, 'the first batch arrived twice');
    for (const [key, ns] of firstByKey(received)) assert.deepEqual(ns, range(20), `order of ${key}`);
  });

  it('re-sends a batch whose claim connection died during the publish', async () => {
    const { outbox, schema } = await setup('killed');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    const { gate, release } = holdPublishes();
    const held = wrap(bus, { before: () => (held.calls === 1 ? gate : Promise.resolve()) });
    await write(outbox, 'k', range(10));
    const errors: unknown[] = [];
    const relayed = relay({
      outbox,
      transport: held,
      batchSize: 5,
      backoff: { initialMs: 10, maxMs: 10 },
      onError: (error) => errors.push(error),
    });
    await relayed.start();
    await waitFor(() => held.calls === 1, 5000, 'a publish in flight');
    const killed = await outbox.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE state = 'idle in transaction' AND query LIKE $1`,
      [`%"${schema}".outbox%`],
    );
    assert.equal(killed.rowCount, 1);
    release();
    await relayed.flush();
    await waitFor(() => new Set(received.map((r) => r.id)).size === 10, 5000, 'all events');
    assert.equal(received.length, 15, 'the first batch was published twice');
    assert.deepEqual(firstByKey(received).get('k'), range(10));
    assert.ok(errors.some((error) => error instanceof HeraldError && error.code === 'HERALD_TRANSPORT'));
  });

  it('stops cleanly: the batch in flight completes and is deleted, the rest waits for the next relay', async () => {
    const { outbox } = await setup('close');
    const bus = transport();
    const { received, subscription } = collect(bus, 'counts');
    await subscription.ready;
    const { gate, release } = holdPublishes();
    const held = wrap(bus, { before: () => gate });
    await write(outbox, 'k', range(100));
    const first = relay({ outbox, transport: held, batchSize: 30 });
    await first.start();
    await waitFor(() => held.calls === 1, 5000, 'a publish in flight');
    const closing = first.close();
    release();
    await closing;
    assert.equal(first.stats.published, 30);
    assert.equal(await outbox.pending(), 70);
    const second = relay({ outbox, transport: bus, batchSize: 30 });
    await second.start();
    await second.flush();
    await waitFor(() => received.length === 100, 5000, 'all events');
    assert.deepEqual(firstByKey(received).get('k'), range(100));
  });

  it('checks its options at start-up, fails to start on an unreachable database, and rejects start after close', async () => {
    const { outbox } = await setup('options');
    const bus = transport();
    const config = (option: string) => (error: unknown) =>
      error instanceof HeraldError && error.code === 'HERALD_CONFIG' && error.details?.option === option;
    assert.throws(() => postgresOutboxRelay({ outbox, transport: bus, batchSize: 0 }), config('batchSize'));
    assert.throws(
      () => postgresOutboxRelay({ outbox, transport: bus, pollIntervalMs: -1 }),
      config('pollIntervalMs'),
    );
    assert.throws(
      () => postgresOutboxRelay({ outbox, transport: bus, partitionsPerClaim: 1.5 }),
      config('partitionsPerClaim'),
    );
    assert.throws(
      () => postgresOutboxRelay({ outbox, transport: bus, backoff: { initialMs: 10, maxMs: 1 } }),
      config('backoff.maxMs'),
    );
    assert.throws(
      () => postgresOutboxRelay({ outbox: {} as PostgresOutbox, transport: bus }),
      config('outbox'),
    );

    const { Pool } = (await import('pg')).default;
    const nowhere = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    endAfter(nowhere);
    const unreachable = relay({ outbox: { ...outbox, pool: nowhere }, transport: bus });
    await assert.rejects(
      unreachable.start(),
      (error: unknown) => error instanceof HeraldError && error.code === 'HERALD_TRANSPORT',
    );
    await unreachable.close();
    await assert.rejects(
      unreachable.start(),
      (error: unknown) => (error as HeraldError).code === 'HERALD_CLOSED',
    );
  });

  it('measures outbox writes (single-event transactions, 10 concurrent writers)', async (t) => {
    const { outbox } = await setup('writes');
    const transactions = 2000;
    const started = performance.now();
    await Promise.all(
      range(10).map(async (writer) => {
        for (let i = 0; i < transactions / 10; i++) await write(outbox, `key-${writer}-${i % 5}`, [i]);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    assert.equal(await outbox.pending(), transactions);
    t.diagnostic(
      `outbox writes: ${transactions} transactions in ${seconds.toFixed(2)} s = ${Math.round(transactions / seconds)} tx/s`,
    );
  });

  it('measures relay throughput (one and two relays, 20,000 rows)', async (t) => {
    const rows = 20_000;
    for (const relayCount of [1, 2]) {
      for (const sink of ['null', 'memory'] as const) {
        const { outbox, open } = await setup(`tput${relayCount}${sink}`);
        const events = await Promise.all(
          range(rows).map((n) => createEvent('/test/relay', Counted, { key: `key-${n % 100}`, n })),
        );
        for (let i = 0; i < rows; i += 1000) {
          await outbox.addRecords(
            outbox.pool,
            events.slice(i, i + 1000).map((e) => encodeEvent('counts', e)),
          );
        }
        // `null` acknowledges at once, so its figure is the relay's own cost.
        const target: Transport = sink === 'memory' ? transport() : nullTransport();
        const started = performance.now();
        const running = await Promise.all(
          range(relayCount).map(async () =>
            relay({ outbox: await open(), transport: target, batchSize: 500, partitionsPerClaim: 4 }),
          ),
        );
        await Promise.all(running.map((r) => r.start()));
        await running[0]!.flush(60_000);
        const seconds = (performance.now() - started) / 1000;
        await Promise.all(running.map((r) => r.close()));
        const line = `${relayCount} relay(s), ${sink} transport: ${rows} rows in ${seconds.toFixed(2)} s = ${Math.round(rows / seconds)} rows/s`;
        t.diagnostic(line);
      }
    }
  });
});
