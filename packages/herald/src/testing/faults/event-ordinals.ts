import type { TransportRecord } from '../../transport.ts';

/**
 * Names each record the same way in every run, for the fault dice: its type, its key and its place among the
 * distinct events of that type and key seen so far (`Deposited/ada/3`). Event ids and test topic names differ
 * between runs; this name does not, where the transport keeps order per key, so a seed reproduces its faults.
 */
export class EventOrdinals {
  readonly #ordinals = new Map<string, Map<string, number>>();

  /** The stable name of `record`; a record seen again (same event id) keeps its name. */
  nameOf(record: TransportRecord): string {
    const lane = `${record.attributes.type ?? ''}/${record.key ?? ''}`;
    let ids = this.#ordinals.get(lane);
    if (ids === undefined) {
      ids = new Map();
      this.#ordinals.set(lane, ids);
    }
    const id = record.attributes.id ?? `${ids.size}`;
    let ordinal = ids.get(id);
    if (ordinal === undefined) {
      ordinal = ids.size + 1;
      ids.set(id, ordinal);
    }
    return `${lane}/${ordinal}`;
  }
}
