import type {
  ClusterMetadata,
  ExtendedGroupProtocolSubscription,
  GroupPartitionsAssignments,
} from '@platformatic/kafka';

/** The group protocol name Herald's members agree on; a member of another protocol cannot join the group. */
export const CO_PARTITIONED_PROTOCOL = 'herald-copartitioned';

/**
 * Assigns partition number `i` of every subscribed topic to the same member (member `i mod n` of those
 * subscribing the topic, members sorted by id): a group's event partition `p` and its retry partition `p` then
 * always have one owner. That owner alone decides when a key's parked records are redelivered and whether a new
 * record of that key must wait behind them, which is what keeps a key's order across delayed redeliveries.
 */
export function assignCoPartitioned(
  members: ReadonlyMap<string, { readonly topics?: readonly string[] }>,
  topics: ReadonlySet<string>,
  partitionsOf: (topic: string) => number,
): Map<string, Map<string, number[]>> {
  const memberIds = [...members.keys()].sort();
  const result = new Map<string, Map<string, number[]>>(memberIds.map((id) => [id, new Map()]));
  for (const topic of [...topics].sort()) {
    const eligible = memberIds.filter((id) => members.get(id)?.topics?.includes(topic) ?? true);
    if (eligible.length === 0) continue;
    const count = partitionsOf(topic);
    for (let partition = 0; partition < count; partition++) {
      const owner = result.get(eligible[partition % eligible.length]!)!;
      let list = owner.get(topic);
      if (list === undefined) owner.set(topic, (list = []));
      list.push(partition);
    }
  }
  return result;
}

/** {@link assignCoPartitioned} in the shape of `@platformatic/kafka`'s `partitionAssigner` option. */
export function coPartitionedAssigner(
  _current: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  topics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const assigned = assignCoPartitioned(
    members,
    topics,
    (topic) => metadata.topics.get(topic)?.partitionsCount ?? 0,
  );
  return [...assigned].map(([memberId, byTopic]) => ({
    memberId,
    assignments: new Map([...byTopic].map(([topic, partitions]) => [topic, { topic, partitions }])),
  }));
}
