import type { JetStreamManager } from '@nats-io/jetstream';
import type { GroupState } from './group-state.ts';
import type { KeyLanes, LaneItem } from './key-lanes.ts';
import { apiCode, JsCodes } from './nats-errors.ts';
import type { Names } from './names.ts';

/** Where the parks to restore live, and what to restore them into. */
export interface ParkRestore<T extends LaneItem> {
  readonly jsm: JetStreamManager;
  readonly names: Names;
  readonly state: GroupState;
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** The partition's main stream and durable consumer, whose ack floor tells which main records settled. */
  readonly stream: string;
  readonly consumer: string;
  readonly lanes: KeyLanes<T>;
  /** The attempt and due time of each parked record, by id. */
  readonly attempts: Map<string, { attempt: number; dueAt: number }>;
}

/**
 * Restores the keys an earlier owner of the partition parked (from the group state), dropping each park whose
 * record is known to be settled: a main record at or below its consumer's ack floor, a replay no longer in the
 * replay stream (a work queue). The rest park their keys again until due, with their attempt.
 */
export async function restoreParks<T extends LaneItem>(r: ParkRestore<T>): Promise<void> {
  const parks = await r.state.loadParks(r.group, r.topic, r.partition);
  let ackFloor: number | undefined;
  for (const park of parks) {
    const [source, seqText] = park.id.split(':');
    const seq = Number(seqText);
    let settled: boolean;
    if (source === 'main') {
      ackFloor ??= (await r.jsm.consumers.info(r.stream, r.consumer)).ack_floor.stream_seq;
      settled = seq <= ackFloor;
    } else {
      settled = !(await storedReplay(r.jsm, r.names.replayStream, seq));
    }
    if (settled) {
      await r.state.deletePark(r.group, r.topic, r.partition, park.key);
    } else {
      r.lanes.restore(park.key, park.id, park.dueAt);
      r.attempts.set(park.id, { attempt: park.attempt, dueAt: park.dueAt });
    }
  }
}

async function storedReplay(jsm: JetStreamManager, stream: string, seq: number): Promise<boolean> {
  try {
    return (await jsm.streams.getMessage(stream, { seq })) !== null;
  } catch (error) {
    if (apiCode(error) === JsCodes.NoMessageFound) return false;
    throw error;
  }
}
