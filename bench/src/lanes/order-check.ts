/** What {@link OrderCheck.accept} found of one delivery. */
export type OrderVerdict = 'in-order' | 'out-of-order' | 'duplicate';

/**
 * Counts per-key order violations among the deliveries a consumer handles. Each event carries its key and its
 * sequence number within the key (0, 1, 2... in publish order). An event is a violation when a later event of its
 * key was handled before it; an event seen before is a duplicate (a redelivery: at-least-once allows it), counted
 * apart and never as a violation.
 */
export class OrderCheck {
  readonly #highest = new Map<string, number>();
  readonly #seen = new Map<string, Set<number>>();
  /** Distinct events accepted. */
  distinct = 0;
  duplicates = 0;
  violations = 0;

  accept(key: string, seq: number): OrderVerdict {
    let seen = this.#seen.get(key);
    if (seen === undefined) this.#seen.set(key, (seen = new Set()));
    if (seen.has(seq)) {
      this.duplicates++;
      return 'duplicate';
    }
    seen.add(seq);
    this.distinct++;
    const highest = this.#highest.get(key) ?? -1;
    if (seq < highest) {
      this.violations++;
      return 'out-of-order';
    }
    this.#highest.set(key, seq);
    return 'in-order';
  }
}
