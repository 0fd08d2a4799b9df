/** What one member of a group does on a rebalance tick. */
export interface BalancePlan {
  /** The most partitions this member keeps now. */
  readonly target: number;
  /** The fewest a member holds once the group is balanced: `floor(partitions / members)`. */
  readonly fairShare: number;
  /** Partitions to hand over (finish, then let go) because this member holds more than `target`. */
  readonly release: number;
  /** Free partitions to try to take. */
  readonly claim: number;
}

/**
 * Cooperative balancing without a coordinator. Every member knows the group's size `M` (consumers of its members
 * queue), how many members are hungry (below `floor(P / M)`, and saying so by consuming the hungry queue), and
 * what it holds itself.
 *
 * - While some member is hungry, everyone keeps at most `floor(P / M)`: the others hold at most
 *   `(M - 1) * floor(P / M) <= P - floor(P / M)`, so partitions come free until the hungry one has its share.
 * - Otherwise everyone keeps at most `ceil(P / M)` and takes free partitions up to that. While a partition is free,
 *   the members hold fewer than `P <= M * ceil(P / M)`, so one of them is below the ceiling and takes it.
 *
 * So every partition ends up owned and the members' shares differ by at most one.
 */
export function planBalance(partitions: number, members: number, owned: number, hungry = 0): BalancePlan {
  const m = Math.max(1, members);
  const fairShare = Math.floor(partitions / m);
  const target = hungry > 0 ? fairShare : Math.ceil(partitions / m);
  return {
    target,
    fairShare,
    release: Math.max(0, owned - target),
    claim: Math.max(0, target - owned),
  };
}

/** `items` in random order (Fisher–Yates), so members joining together try different partitions first. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
