import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { createPublisher, createRouter, defineEvent } from '@herald/core';
import { sqlite } from '../src/index.ts';
import { tempDb } from './fixtures/temp-db.ts';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const BACKLOG = 20_000;
const Drained = defineEvent({
  type: 'BacklogDrained',
  topic: 'backlog',
  schema: z.object({ n: z.number() }),
  key: (data) => `key-${data.n % 1000}`,
});

interface Sample {
  readonly latencyMs: number;
  /** CPU time the process used while the ping waited: what the event loop was held for, whatever the load. */
  readonly cpuMs: number;
  readonly handled: number;
  readonly leaseExpiresAt: number;
  readonly committed: number;
}

// Issue 13 item 1: a backlog drained in microtasks froze the process (health checks took seconds, the lease
// lapsed, offsets were committed only at the end). This test counts the events handled between two turns of the
// event loop, and reports (never asserts) how long timers waited.
describe('sqlite transport: draining a backlog', () => {
  it('keeps the event loop answering, renews the lease and commits as it drains 20,000 events', async (t) => {
    const db = tempDb();
    cleanups.push(db.remove);
    // A short session, so the lease must be renewed (every 500 ms) during a drain of a few seconds.
    const transport = sqlite({ path: db.path, sessionTimeoutMs: 1500 });
    cleanups.push(() => transport.close());
    const publisher = createPublisher({ transport, source: '/backlog-producer' });
    for (let n = 0; n < BACKLOG; n += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => publisher.publish(Drained, { n: n + i })));
    }

    // The handler's effect: one small write to the service's own database, as the shop's handlers do.
    const own = new Database(db.path.replace(/log\.db$/, 'service.db'));
    cleanups.push(() => own.close());
    own.pragma('journal_mode = WAL');
    own.pragma('synchronous = NORMAL');
    own.exec('CREATE TABLE handled (n INTEGER NOT NULL)');
    const insert = own.prepare<[number]>('INSERT INTO handled (n) VALUES (?)');
    // Another connection watches the group's bookkeeping, as a second instance would see it.
    const observer = new Database(db.path, { readonly: true });
    cleanups.push(() => observer.close());
    const leaseOf = observer
      .prepare<[], number | null>("SELECT max(expires_at) FROM members WHERE grp = 'drainers'")
      .pluck();
    const committedOf = observer
      .prepare<[], number | null>(
        "SELECT coalesce(sum(committed), 0) FROM group_partitions WHERE grp = 'drainers'",
      )
      .pluck();

    let handled = 0;
    let drained!: () => void;
    const done = new Promise<void>((resolve) => (drained = resolve));
    const router = createRouter({ transport, group: 'drainers', source: '/drainers' });
    router.on(Drained, (event) => {
      insert.run(event.data.n);
      if (++handled === BACKLOG) drained();
    });

    const samples: Sample[] = [];
    let sampling = true;
    const ping = (): void => {
      const sent = performance.now();
      const cpu = process.cpuUsage();
      setTimeout(() => {
        const used = process.cpuUsage(cpu);
        samples.push({
          latencyMs: performance.now() - sent,
          cpuMs: (used.user + used.system) / 1000,
          handled,
          leaseExpiresAt: leaseOf.get() ?? 0,
          committed: committedOf.get() ?? 0,
        });
        if (sampling) ping();
      }, 0);
    };
    ping();
    await router.start();
    const leaseAtStart = leaseOf.get() ?? 0;
    const timeout = setTimeout(() => drained(), 60_000);
    await done;
    clearTimeout(timeout);
    sampling = false;
    await new Promise((resolve) => setTimeout(resolve, 10));
    await router.close();
    assert.equal(handled, BACKLOG, 'the whole backlog is handled within 60 s');

    const p99 = (values: number[]): number => {
      const sorted = values.sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
    };
    const wallP99 = p99(samples.map((s) => s.latencyMs));
    const cpuP99 = p99(samples.map((s) => s.cpuMs));
    const wallMax = Math.max(...samples.map((s) => s.latencyMs));
    const figures = `ping p99 ${wallP99.toFixed(1)} ms (max ${wallMax.toFixed(1)} ms), CPU held p99 ${cpuP99.toFixed(1)} ms`;
    t.diagnostic(`${figures}, ${samples.length} pings, load ${loadavg()[0]!.toFixed(1)}`);
    const during = samples.filter((s) => s.handled < BACKLOG);
    // The most events handled between two consecutive turns of the event loop: what the engine controls. A
    // drain in microtasks (the defect) handles the whole backlog, or a whole fetch batch, in one turn.
    let mostPerTurn = 0;
    let before = 0;
    for (const sample of samples) {
      mostPerTurn = Math.max(mostPerTurn, sample.handled - before);
      before = sample.handled;
    }
    t.diagnostic(`at most ${mostPerTurn} events handled between two timer turns`);
    assert.ok(samples.length >= 10, `the event loop ran timers during the drain (${samples.length} pings)`);
    // Wall-clock figures are reported above, never asserted: on a loaded machine the wait for a CPU dominates
    // them (measured p99 115-140 ms at load 15-17 on 2 cores, 32 ms on a quiet one, with a 10 ms slice).
    assert.ok(
      mostPerTurn <= BACKLOG / 10,
      `${figures}: the drain lets timers run at least every ${BACKLOG / 10} events (saw ${mostPerTurn} in one turn)`,
    );
    assert.ok(
      during.some((s) => s.leaseExpiresAt > leaseAtStart),
      'the lease expiry moved forward before the drain ended',
    );
    assert.ok(
      during.some((s) => s.committed > 0 && s.committed < BACKLOG),
      'the committed offset advanced before the drain ended',
    );
  });
});
