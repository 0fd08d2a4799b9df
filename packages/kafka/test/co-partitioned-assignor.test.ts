import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignCoPartitioned } from '../src/co-partitioned-assignor.ts';

describe('co-partitioned assignor', () => {
  const counts: Record<string, number> = { orders: 6, payments: 3, 'herald.g.retry': 6 };
  const partitionsOf = (topic: string): number => counts[topic]!;
  const topics = new Set(Object.keys(counts));

  it('gives partition i of every topic to one member', () => {
    const members = new Map(['m-b', 'm-a', 'm-c'].map((id) => [id, { topics: [...topics] }]));
    const assigned = assignCoPartitioned(members, topics, partitionsOf);
    for (let p = 0; p < 6; p++) {
      const owners = [...assigned]
        .filter(([, byTopic]) => ['orders', 'herald.g.retry'].every((t) => byTopic.get(t)?.includes(p)))
        .map(([id]) => id);
      assert.equal(owners.length, 1, `partition ${p} of orders and retry share one owner`);
    }
    const payments = [...assigned].map(([id, byTopic]) => [id, byTopic.get('payments') ?? []]);
    assert.deepEqual(Object.fromEntries(payments), { 'm-a': [0], 'm-b': [1], 'm-c': [2] });
  });

  it('assigns every partition exactly once, and only to members subscribing its topic', () => {
    const members = new Map([
      ['m1', { topics: ['orders', 'herald.g.retry'] }],
      ['m2', { topics: ['orders', 'herald.g.retry', 'payments'] }],
    ]);
    const assigned = assignCoPartitioned(members, topics, partitionsOf);
    for (const topic of topics) {
      const all = [...assigned.values()].flatMap((byTopic) => byTopic.get(topic) ?? []).sort();
      assert.deepEqual(
        all,
        Array.from({ length: counts[topic]! }, (_, i) => i),
      );
    }
    assert.equal(assigned.get('m1')!.get('payments'), undefined);
  });

  it('is deterministic whatever the order members arrive in', () => {
    const a = assignCoPartitioned(
      new Map([
        ['x', {}],
        ['y', {}],
      ]),
      topics,
      partitionsOf,
    );
    const b = assignCoPartitioned(
      new Map([
        ['y', {}],
        ['x', {}],
      ]),
      topics,
      partitionsOf,
    );
    assert.deepEqual([...a.get('x')!], [...b.get('x')!]);
  });
});
