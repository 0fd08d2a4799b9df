import type { TransportRecord } from '@herald/core';

/** The topic of the lanes trials. */
export const LANES_TOPIC = 'lanes';
/**
 * Logical keys of the unordered system's events: their order is counted too, though nothing keeps it. Ten, so that
 * events of one key are close enough in the log (10 apart) to be in flight together and overtake each other.
 */
export const UNORDERED_LOGICAL_KEYS = 10;

/** What each event's data holds: its logical key, its sequence number within the key, and its global index. */
export interface LaneEvent {
  readonly key: string;
  readonly seq: number;
  readonly i: number;
}

const encoder = new TextEncoder();

/** Event `i` of a trial over `keys` keys (0: published without a key, logically over {@link UNORDERED_LOGICAL_KEYS} keys). */
export function laneEvent(i: number, keys: number): LaneEvent {
  const k = keys === 0 ? UNORDERED_LOGICAL_KEYS : keys;
  return { key: `k${i % k}`, seq: Math.floor(i / k), i };
}

export function laneRecord(i: number, keys: number): TransportRecord {
  const event = laneEvent(i, keys);
  return {
    topic: LANES_TOPIC,
    key: keys === 0 ? undefined : event.key,
    attributes: {
      specversion: '1.0',
      id: `lane-${i}`,
      source: '/bench/lanes',
      type: 'LaneTicked',
      datacontenttype: 'application/json',
    },
    data: encoder.encode(JSON.stringify(event)),
  };
}

/**
 * The handler's work for event `i`, ms: an I/O-like wait (a timer, no CPU) of 1 or 2 ms, chosen by a hash of `i`
 * (mean 1.5 ms). A wait is what parallel keys can overlap; the variation is what lets events of one key overtake
 * each other where nothing orders them, so the unordered run shows what the order check catches.
 */
export function workMs(i: number): number {
  return 1 + (Math.imul(i, 0x9e3779b1) >>> 31);
}
