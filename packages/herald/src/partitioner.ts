/**
 * Maps a partition key to a partition with 32-bit FNV-1a over its UTF-8 bytes: stable across processes and
 * releases, so every producer puts a key in the same partition. Transports whose broker has its own partitioner
 * (Kafka's murmur2) use the broker's.
 */
export function partitionFor(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
