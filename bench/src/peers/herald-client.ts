import type { TransportRecord } from '@herald/core';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { eventAttributes, eventData, keyOf, stampOfData, TOPIC } from '../message.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { loadHeraldSqlite } from './herald-sqlite.ts';

/** Deliveries in flight per subscription (same-key deliveries stay sequential). */
export const HERALD_CONCURRENCY = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function record(seq: number, sentAt: number): TransportRecord {
  return {
    topic: TOPIC,
    key: keyOf(seq),
    attributes: eventAttributes(seq),
    data: encoder.encode(eventData(seq, sentAt)),
  };
}

async function open(spec: TrialSpec) {
  const sqlite = await loadHeraldSqlite();
  if (!sqlite) throw new Error('@herald/sqlite does not export sqlite() yet');
  return sqlite({ path: spec.resources.path!, durability: spec.durability });
}

async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const transport = await open(spec);
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      await transport.publish(Array.from({ length: n }, (_, i) => record(from + i, sentAt)));
    },
    async publishOne(seq, sentAt) {
      await transport.publish([record(seq, sentAt)]);
    },
    close: () => transport.close(),
  };
}

async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const transport = await open(spec);
  const subscription = transport.subscribe(
    { group: placement.group, topics: [TOPIC], concurrency: HERALD_CONCURRENCY },
    async (delivery) => {
      sink.accept(stampOfData(decoder.decode(delivery.record.data)));
      await delivery.ack();
    },
  );
  await subscription.ready;
  return {
    async close() {
      await subscription.close();
      await transport.close();
    },
  };
}

export const heraldClient: PeerClient = { producer, consumer };
