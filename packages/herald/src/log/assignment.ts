/**
 * Deterministic partition assignment for a consumer group: members sorted by id; for each topic, its partitions
 * dealt round-robin (continuing from topic to topic, so load evens out) to the members that subscribe to it. Every process computing it from the same members gets
 * the same answer. Returns `topic\u0000partition` -> member id.
 */
export function assignPartitions(
  members: readonly { memberId: string; topics: readonly string[] }[],
  partitionsOf: (topic: string) => number,
): Map<string, string> {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort();
  const result = new Map<string, string>();
  let turn = 0;
  for (const topic of topics) {
    const candidates = sorted.filter((m) => m.topics.includes(topic));
    const n = partitionsOf(topic);
    for (let partition = 0; partition < n; partition++) {
      result.set(`${topic}\u0000${partition}`, candidates[turn++ % candidates.length]!.memberId);
    }
  }
  return result;
}
