import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Assignment, MemberInfo, OwnedPartition } from '@herald/core';
import { record } from './fixtures/records.ts';
import { logStores } from './fixtures/log-stores.ts';

const { open } = logStores();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const member = (memberId: string, topics = ['orders'], group = 'billing'): MemberInfo => ({
  group,
  memberId,
  topics,
});
const parts = (assignment: Assignment) => assignment.partitions.map((p) => `${p.topic}/${p.partition}`);
const find = (assignment: Assignment, partition: number): OwnedPartition =>
  assignment.partitions.find((p) => p.partition === partition)!;

describe('sqlite log store: consumer groups', () => {
  it('gives a lone member every partition, and commits only under the current generation', async () => {
    const store = open();
    const a = member('a');
    const assignment = await store.heartbeat(a);
    assert.deepEqual(parts(assignment), ['orders/0', 'orders/1', 'orders/2', 'orders/3']);
    const tp = find(assignment, 2);
    assert.equal(await store.committed('billing', tp), undefined);
    assert.equal(await store.commit(a, tp, 5n), true);
    assert.equal(await store.committed('billing', tp), 5n);
    assert.equal(await store.commit(a, { ...tp, generation: tp.generation + 1 }, 9n), false);
    assert.equal(await store.commit(member('stranger'), tp, 9n), false);
    assert.equal(await store.committed('billing', tp), 5n);
    assert.equal(await store.committed('other-group', tp), undefined);
    assert.deepEqual(
      await store.heartbeat(a),
      assignment,
      'a heartbeat changes nothing when nothing changed',
    );
  });

  it('hands partitions over in two steps: the owner gives them up, then the newcomer takes them', async () => {
    const store = open();
    const a = member('a');
    const b = member('b');
    const first = await store.heartbeat(a);
    assert.equal(first.partitions.length, 4);
    assert.deepEqual(parts(await store.heartbeat(b)), [], 'b waits while a still owns everything');
    const shrunk = await store.heartbeat(a);
    assert.deepEqual(parts(shrunk), ['orders/0', 'orders/2'], 'a gives up what is now assigned to b');
    const given = find(first, 1);
    assert.equal(await store.commit(a, given, 3n), true, 'a may still commit what it finishes meanwhile');
    const taken = await store.heartbeat(b);
    assert.deepEqual(parts(taken), ['orders/1', 'orders/3']);
    assert.ok(find(taken, 1).generation > given.generation, 'a new owner, a new generation');
    assert.equal(await store.commit(a, given, 4n), false, 'the old owner can no longer commit');
    assert.equal(await store.committed('billing', given), 3n, 'the new owner resumes where a stopped');
    assert.equal(await store.commit(b, find(taken, 1), 4n), true);
    assert.equal(await store.commit(a, find(shrunk, 0), 1n), true, "a's other partitions are untouched");
  });

  it('takes over the partitions of a member whose lease expired', async () => {
    const store = open({ sessionTimeoutMs: 60 });
    const a = member('a');
    const b = member('b');
    await store.heartbeat(a);
    await store.heartbeat(b);
    await store.heartbeat(a);
    const bOwns = await store.heartbeat(b);
    assert.equal(bOwns.partitions.length, 2);
    await sleep(80);
    const all = await store.heartbeat(a);
    assert.equal(all.partitions.length, 4, 'b stopped heartbeating: a owns everything');
    assert.equal(await store.commit(b, bOwns.partitions[0]!, 1n), false);
    const back = await store.heartbeat(b);
    assert.deepEqual(parts(back), [], 'b rejoins as a newcomer and waits for a to give partitions up');
  });

  it('gives the partitions of a member that leaves to the others at their next heartbeat', async () => {
    const store = open();
    const a = member('a');
    const b = member('b');
    await store.heartbeat(a);
    await store.heartbeat(b);
    await store.heartbeat(a);
    await store.heartbeat(b);
    await store.leave(a);
    assert.equal((await store.heartbeat(b)).partitions.length, 4);
  });

  it('shares the partitions of several topics evenly and the same way in every process', async () => {
    const first = open();
    const second = open({}, first.path);
    const a = member('a', ['orders', 'payments']);
    const b = member('b', ['orders', 'payments']);
    const c = member('c', ['orders', 'payments']);
    // Everyone joins, then each heartbeats until the hand-over settles.
    for (let round = 0; round < 3; round++) {
      for (const [store, m] of [
        [first, a],
        [second, b],
        [first, c],
      ] as const)
        await store.heartbeat(m);
    }
    const counts = await Promise.all([first.heartbeat(a), second.heartbeat(b), first.heartbeat(c)]);
    const owned = counts.flatMap(parts);
    assert.equal(new Set(owned).size, 8, 'every partition has exactly one owner');
    assert.deepEqual(
      counts.map((x) => x.partitions.length),
      [3, 3, 2],
    );
  });

  it('keeps groups apart', async () => {
    const store = open();
    assert.equal((await store.heartbeat(member('a', ['orders'], 'g1'))).partitions.length, 4);
    assert.equal((await store.heartbeat(member('b', ['orders'], 'g2'))).partitions.length, 4);
  });
});

describe('sqlite log store: seek', () => {
  it('moves the position on every partition and makes the owner re-read it', async () => {
    const store = open({ partitions: 2 });
    const receipts = await store.append(
      Array.from({ length: 10 }, (_, i) => record('orders', `k${i}`, `e${i}`)),
    );
    const a = member('a');
    const before = await store.heartbeat(a);
    for (const tp of before.partitions) {
      assert.equal(await store.commit(a, tp, await store.endOffset('orders', tp.partition)), true);
    }
    await store.seek('billing', 'orders', 'earliest');
    for (const tp of before.partitions) {
      assert.equal(await store.committed('billing', tp), 0n);
      assert.equal(await store.commit(a, tp, 1n), false, 'the old generation is refused');
    }
    const after = await store.heartbeat(a);
    for (const tp of after.partitions) {
      assert.notEqual(tp.generation, find(before, tp.partition).generation);
      assert.equal(await store.commit(a, tp, 1n), true);
    }
    await store.seek('billing', 'orders', 'latest');
    for (const tp of after.partitions) {
      const end = receipts.filter((r) => r.partition === tp.partition).length;
      assert.equal(await store.committed('billing', tp), BigInt(end));
    }
    await store.seek('billing', 'orders', { offset: '2' });
    assert.equal(await store.committed('billing', { topic: 'orders', partition: 1 }), 2n);
    await store.seek('billing', 'orders', { time: new Date(Date.now() + 60_000) });
    assert.equal(
      await store.committed('billing', { topic: 'orders', partition: 0 }),
      await store.endOffset('orders', 0),
    );
    await assert.rejects(store.seek('billing', 'orders', { offset: '-1' }), { code: 'HERALD_CONFIG' });
  });

  it('sets the position of a group that never joined, for when it does', async () => {
    const store = open({ partitions: 1 });
    await store.append([record('orders', 'k', 'e0'), record('orders', 'k', 'e1')]);
    await store.seek('late', 'orders', 'latest');
    const a = member('a', ['orders'], 'late');
    const [tp] = (await store.heartbeat(a)).partitions;
    assert.equal(await store.committed('late', tp!), 2n);
    assert.equal(await store.commit(a, tp!, 2n), true);
  });
});
