import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { murmur2, partitionForKey, RoundRobin } from '../src/partitioner.ts';

// Produced by Kafka 4.3.1's own client (org.apache.kafka.common.utils.Utils.murmur2 and
// `toPositive(murmur2(bytes)) % n`, the Java default partitioner) over the UTF-8 bytes of each key.
const JAVA: [key: string, murmur2: number, of6: number, of7: number][] = [
  ['', 275646681, 3, 2],
  ['a', -1563381124, 4, 5],
  ['ab', 316155434, 2, 0],
  ['abc', 479470107, 3, 4],
  ['21', -973932308, 0, 3],
  ['foobar', -790332482, 0, 0],
  ['a-little-bit-long-string', -985981536, 2, 1],
  ['order-123', -940440895, 1, 0],
  ['héllo ✓', 1984444672, 4, 0],
  ['key-0', 29210041, 1, 0],
  ['key-15', 294428499, 3, 1],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 5, 3],
];

describe('partitioner', () => {
  it("computes Kafka's murmur2 exactly as the Java client", () => {
    for (const [key, hash] of JAVA) assert.equal(murmur2(Buffer.from(key, 'utf8')), hash, key);
  });

  it('places every key in the partition the Java default partitioner picks', () => {
    for (const [key, , of6, of7] of JAVA) {
      assert.equal(partitionForKey(key, 6), of6, key);
      assert.equal(partitionForKey(Buffer.from(key, 'utf8'), 7), of7, key);
    }
  });

  it('spreads unkeyed records round-robin per topic', () => {
    const rr = new RoundRobin();
    const seen = Array.from({ length: 8 }, () => rr.next('t', 4));
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i], (seen[i - 1]! + 1) % 4);
  });
});
