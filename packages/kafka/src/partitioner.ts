/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`) over 32-bit integer arithmetic, as a signed int. The
 * client library's port works on BigInt, which is slow for a hash taken on every publish.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition of a keyed record, exactly as Kafka's Java client picks it: `(murmur2(keyBytes) & 0x7fffffff)
 * % partitions` over the key's UTF-8 bytes. Any Kafka client with the Java-compatible default partitioner puts a
 * key in the same partition as Herald. (`@platformatic/kafka`'s default partitioner uses `>>> 0` instead of the
 * mask and disagrees for every key whose hash is negative.)
 */
export function partitionForKey(key: string | Uint8Array, partitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}

/** Round-robin partitions per topic for unkeyed records. */
export class RoundRobin {
  readonly #next = new Map<string, number>();

  next(topic: string, partitions: number): number {
    const value = this.#next.get(topic) ?? Math.floor(Math.random() * partitions);
    this.#next.set(topic, (value + 1) % partitions);
    return value % partitions;
  }
}
