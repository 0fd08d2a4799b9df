import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CloseOnce,
  deadLetterGroup,
  getDeadLetter,
  Lease,
  listDeadLetters,
  OffsetTracker,
  PartitionCommitter,
  Readiness,
  settleOnce,
  settlesWithin,
  withDeadLetter,
  type CommittedPartition,
  type DeadLetter,
  type DeadLetterScan,
  type PositionCommit,
  type SettleActions,
} from '@herald/core';

const fields = {
  record: { topic: 't', key: 'k', attributes: {}, data: new Uint8Array() },
  group: 'g',
  partition: 0,
  offset: '7',
  attempt: 1,
};
const failure = {
  error: { name: 'Error', message: 'x' },
  attempts: 1,
  reason: 'max-attempts' as const,
};

function recordingActions(log: string[]): SettleActions {
  return {
    ack: () => {
      log.push('ack');
      return Promise.resolve();
    },
    retryLater: (delayMs) => {
      log.push(`retryLater ${delayMs}`);
      return Promise.resolve();
    },
    deadLetter: () => {
      log.push('deadLetter');
      return Promise.resolve();
    },
  };
}

describe('settleOnce', () => {
  it('runs the first settle and rejects every later one without running it', async () => {
    const log: string[] = [];
    const delivery = settleOnce(fields, recordingActions(log), { subject: 'Record t/0/7' });
    assert.equal(delivery.offset, '7');
    await delivery.retryLater(25, { name: 'Error', message: 'later' });
    await assert.rejects(() => delivery.ack(), {
      code: 'HERALD_TRANSPORT',
      message: 'Record t/0/7 settled twice',
    });
    await assert.rejects(() => delivery.deadLetter(failure), { code: 'HERALD_TRANSPORT' });
    assert.deepEqual(log, ['retryLater 25']);
  });

  it('rejects a second settle while the first is still under way', async () => {
    let release!: () => void;
    const ran: string[] = [];
    const delivery = settleOnce(
      fields,
      {
        ack: () => {
          ran.push('ack');
          return new Promise<void>((resolve) => (release = resolve));
        },
        retryLater: () => Promise.reject(new Error('not expected')),
        deadLetter: () => Promise.reject(new Error('not expected')),
      },
      { subject: 'Record t/0/7' },
    );
    const first = delivery.ack();
    await assert.rejects(() => delivery.deadLetter(failure), { code: 'HERALD_TRANSPORT' });
    release();
    await first;
    assert.deepEqual(ran, ['ack']);
  });

  it('claims but skips the action when skip says so (abandoned at shutdown)', async () => {
    const log: string[] = [];
    let claims = 0;
    const delivery = settleOnce(fields, recordingActions(log), {
      subject: 's',
      onClaim: () => claims++,
      skip: () => true,
    });
    await delivery.ack();
    await assert.rejects(() => delivery.ack(), { code: 'HERALD_TRANSPORT' });
    assert.deepEqual(log, []);
    assert.equal(claims, 1);
  });

  it('maps a failed action through onFailure, naming the action, and stays settled', async () => {
    const seen: string[] = [];
    const delivery = settleOnce(
      fields,
      {
        ...recordingActions([]),
        deadLetter: () => Promise.reject(new Error('broker down')),
      },
      {
        subject: 's',
        onFailure: (error, action) => {
          seen.push(action);
          return new Error(`wrapped: ${(error as Error).message}`);
        },
      },
    );
    await assert.rejects(() => delivery.deadLetter(failure), { message: 'wrapped: broker down' });
    await assert.rejects(() => delivery.ack(), { code: 'HERALD_TRANSPORT' });
    assert.deepEqual(seen, ['deadLetter']);
  });
});

describe('Readiness', () => {
  it('resolves once; a later close does not change it', async () => {
    const readiness = new Readiness();
    readiness.resolve();
    readiness.closed();
    await readiness.promise;
  });

  it('rejects with HERALD_CLOSED when closed before ready, and with the setup error when it failed', async () => {
    const closed = new Readiness();
    closed.closed();
    await assert.rejects(closed.promise, { code: 'HERALD_CLOSED' });
    const failed = new Readiness();
    failed.reject(new Error('no broker'));
    failed.closed();
    await assert.rejects(failed.promise, { message: 'no broker' });
  });

  it('raises no unhandled rejection when nobody awaits it', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      new Readiness().closed();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('settlesWithin and CloseOnce', () => {
  it('tells whether the work settled before the time ran out', async () => {
    assert.equal(await settlesWithin(Promise.resolve(), 1000), true);
    assert.equal(await settlesWithin(new Promise(() => undefined), 0), false);
    await assert.rejects(settlesWithin(Promise.reject(new Error('boom')), 1000), { message: 'boom' });
  });

  it('closes once with the first timeout, however often it is called', async () => {
    const once = new CloseOnce();
    const timeouts: number[] = [];
    const close = (timeoutMs: number): Promise<void> => {
      timeouts.push(timeoutMs);
      return Promise.resolve();
    };
    const first = once.run({ timeoutMs: 5 }, close);
    const second = once.run({ timeoutMs: 99 }, close);
    assert.equal(first, second);
    await first;
    await once.run({}, close);
    assert.deepEqual(timeouts, [5]);
    const defaults: number[] = [];
    await new CloseOnce().run({}, (timeoutMs) => Promise.resolve(void defaults.push(timeoutMs)));
    assert.deepEqual(defaults, [10_000]);
  });
});

interface TestPartition extends CommittedPartition {
  readonly name: string;
}

function partition(name: string): TestPartition {
  return { name, tracker: new OffsetTracker(), lastCommitted: undefined, revoked: false };
}

/** A committer whose writes go to `writes`; `refuse` names partitions the "broker" no longer gives us. */
function committer(options: { fail?: () => boolean; refuse?: Set<string> } = {}) {
  const writes: string[][] = [];
  const errors: unknown[] = [];
  const c = new PartitionCommitter<TestPartition>({
    intervalMs: 1,
    retryMs: 1,
    write: (commits: readonly PositionCommit<TestPartition>[]) => {
      if (options.fail?.() === true) return Promise.reject(new Error('commit failed'));
      writes.push(commits.map(({ partition: p, position }) => `${p.name}@${position}`));
      return Promise.resolve(commits.filter(({ partition: p }) => !options.refuse?.has(p.name)));
    },
    onError: (error) => errors.push(error),
  });
  return { c, writes, errors };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.ok(condition(), 'condition reached');
}

describe('PartitionCommitter', () => {
  it('commits only below the oldest unfinished record, and each position once', async () => {
    const { c, writes } = committer();
    const p = partition('p0');
    for (const offset of [0n, 1n, 2n]) p.tracker.track(offset);
    c.finish(p, 1n);
    await c.flush();
    assert.deepEqual(writes, [['p0@0']]);
    c.finish(p, 0n);
    await c.flush();
    c.finish(p, 2n);
    await c.flush();
    await c.flush();
    assert.deepEqual(writes, [['p0@0'], ['p0@2'], ['p0@3']]);
    assert.equal(p.lastCommitted, 3n);
  });

  it('writes on its own within the interval', async () => {
    const { c, writes } = committer();
    const p = partition('p0');
    p.tracker.track(5n);
    c.finish(p, 5n);
    await until(() => writes.length === 1);
    assert.deepEqual(writes, [['p0@6']]);
    c.stop();
  });

  it('retries a failed write and reports it, until it succeeds', async () => {
    let failures = 2;
    const { c, writes, errors } = committer({ fail: () => failures-- > 0 });
    const p = partition('p0');
    p.tracker.track(0n);
    c.finish(p, 0n);
    await until(() => writes.length === 1);
    assert.deepEqual(writes, [['p0@1']]);
    assert.equal(errors.length, 2);
    c.stop();
  });

  it('after stop, writes only on flush, and a failed flush rejects and keeps the position', async () => {
    let fail = true;
    const { c, writes, errors } = committer({ fail: () => fail });
    const p = partition('p0');
    p.tracker.track(0n);
    c.stop();
    c.finish(p, 0n);
    await assert.rejects(c.flush(), { message: 'commit failed' });
    assert.equal(errors.length, 0);
    fail = false;
    await c.flush();
    assert.deepEqual(writes, [['p0@1']]);
  });

  it('commits nothing more for a revoked partition, and leaves a refused one uncommitted', async () => {
    const { c, writes } = committer({ refuse: new Set(['lost']) });
    const revoked = partition('revoked');
    const lost = partition('lost');
    revoked.tracker.track(0n);
    lost.tracker.track(0n);
    revoked.revoked = true;
    c.finish(revoked, 0n);
    c.finish(lost, 0n);
    await c.flush();
    assert.deepEqual(writes, [['lost@1']]);
    assert.equal(lost.lastCommitted, undefined);
    c.stop();
  });

  it('commits a chosen position at once with commit()', async () => {
    const { c, writes } = committer();
    const p = partition('p0');
    await c.commit([p], () => 42n);
    await c.commit([p], () => 42n);
    assert.deepEqual(writes, [['p0@42']]);
    assert.equal(p.lastCommitted, 42n);
    c.stop();
  });
});

describe('dead-letter scan helpers', () => {
  const letter = (group: string, n: number, topic = 'orders'): DeadLetter => ({
    id: `${group}:${n}`,
    group,
    record: { topic, key: undefined, attributes: {}, data: new Uint8Array() },
    partition: 0,
    offset: String(n),
    failure,
    deadLetteredAt: '2026-01-01T00:00:00.000Z',
  });
  const queues = new Map<string, DeadLetter[]>([
    ['a', [letter('a', 1), letter('a', 2, 'payments'), letter('a', 3)]],
    ['b', [letter('b', 1)]],
  ]);
  const scanned: string[] = [];
  const source: DeadLetterScan<[remove: () => void]> = {
    groups: () => queues.keys(),
    scan: async (group, visit) => {
      const list = queues.get(group) ?? [];
      for (const deadLetter of [...list]) {
        scanned.push(deadLetter.id);
        const remove = (): void => void list.splice(list.indexOf(deadLetter), 1);
        if (await visit(deadLetter, remove)) return;
      }
    },
  };

  it('lists by group and topic, up to the limit, stopping the scan there', async () => {
    scanned.length = 0;
    const ids = async (query: Parameters<typeof listDeadLetters>[1]) =>
      (await listDeadLetters(source, query)).map((d) => d.id);
    assert.deepEqual(await ids({}), ['a:1', 'a:2', 'a:3', 'b:1']);
    assert.deepEqual(await ids({ topic: 'payments' }), ['a:2']);
    assert.deepEqual(await ids({ group: 'b' }), ['b:1']);
    scanned.length = 0;
    assert.deepEqual(await ids({ limit: 2 }), ['a:1', 'a:2']);
    assert.deepEqual(scanned, ['a:1', 'a:2']);
  });

  it('finds one by id in its group only, and acts on it with its handle', async () => {
    assert.equal(deadLetterGroup('a:2'), 'a');
    assert.equal(deadLetterGroup('no-group'), undefined);
    assert.equal((await getDeadLetter(source, 'a:3'))?.offset, '3');
    assert.equal(await getDeadLetter(source, 'b:3'), undefined);
    assert.equal(await getDeadLetter(source, 'nonsense'), undefined);
    assert.equal(await withDeadLetter(source, 'a:1', (_d, remove) => remove()), true);
    assert.equal(await withDeadLetter(source, 'a:1', () => undefined), false);
    assert.deepEqual(
      queues.get('a')!.map((d) => d.id),
      ['a:2', 'a:3'],
    );
  });
});

describe('Lease', () => {
  it('aborts its signal once, with HERALD_LEASE_LOST and the first reason', () => {
    const lease = new Lease();
    let aborts = 0;
    lease.signal.addEventListener('abort', () => aborts++);
    assert.equal(lease.lost, false);
    assert.equal(lease.signal.aborted, false);
    lease.lose('orders/3 (assigned to another member)');
    lease.lose('orders/3 (again)');
    assert.equal(lease.lost, true);
    assert.equal(aborts, 1);
    const reason = lease.signal.reason as { code: string; message: string };
    assert.equal(reason.code, 'HERALD_LEASE_LOST');
    assert.match(reason.message, /orders\/3 \(assigned to another member\)/);
  });
});
