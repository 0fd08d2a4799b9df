import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBalance, shuffled } from '../src/balance.ts';

describe('rabbitmq partition balancing', () => {
  it('keeps at most ceil(P/M) and takes free partitions up to it', () => {
    assert.deepEqual(planBalance(8, 1, 0), { target: 8, fairShare: 8, release: 0, claim: 8 });
    assert.deepEqual(planBalance(8, 2, 8), { target: 4, fairShare: 4, release: 4, claim: 0 });
    assert.deepEqual(planBalance(8, 3, 2), { target: 3, fairShare: 2, release: 0, claim: 1 });
    assert.deepEqual(planBalance(2, 3, 0), { target: 1, fairShare: 0, release: 0, claim: 1 });
    assert.deepEqual(planBalance(4, 0, 0), { target: 4, fairShare: 4, release: 0, claim: 4 });
  });

  it('keeps at most floor(P/M) while a member is hungry', () => {
    assert.deepEqual(planBalance(16, 5, 4, 1), { target: 3, fairShare: 3, release: 1, claim: 0 });
    assert.deepEqual(planBalance(16, 5, 0, 1), { target: 3, fairShare: 3, release: 0, claim: 3 });
  });

  it('converges: every partition owned, no member above the ceiling, spread at most one', () => {
    let seed = 42;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (const [partitions, members] of [
      [8, 1],
      [8, 2],
      [8, 3],
      [4, 6],
      [16, 5],
      [16, 6],
      [7, 7],
      [1, 3],
    ] as const) {
      const owner = new Map<number, number>();
      const hungry = new Set<number>();
      for (let round = 0; round < 20; round++) {
        for (const member of shuffled(
          Array.from({ length: members }, (_, i) => i),
          random,
        )) {
          const mine = [...owner].filter(([, m]) => m === member).map(([p]) => p);
          const plan = planBalance(partitions, members, mine.length, hungry.size);
          for (const p of mine.slice(0, plan.release)) owner.delete(p);
          let claim = plan.claim;
          for (const p of shuffled(
            Array.from({ length: partitions }, (_, i) => i),
            random,
          )) {
            if (claim === 0) break;
            if (!owner.has(p)) {
              owner.set(p, member);
              claim--;
            }
          }
          const held = [...owner.values()].filter((m) => m === member).length;
          if (held < plan.fairShare) hungry.add(member);
          else hungry.delete(member);
        }
      }
      const counts = Array.from(
        { length: members },
        (_, m) => [...owner.values()].filter((o) => o === m).length,
      );
      assert.equal(owner.size, partitions, `${partitions}/${members}: all owned`);
      assert.ok(
        Math.max(...counts) <= Math.ceil(partitions / members),
        `${partitions}/${members}: ${counts.join()}`,
      );
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${partitions}/${members}: ${counts.join()}`);
    }
  });

  it('shuffles without losing items', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    assert.deepEqual(
      shuffled(items).sort((a, b) => a - b),
      items,
    );
  });
});
