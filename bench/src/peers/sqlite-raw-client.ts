import { nowUs, sleep } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { keyOf, stampOfStructured, structuredEvent, TOPIC } from '../message.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { openSqlite } from './sqlite-raw-schema.ts';

/** Rows read per query. */
const FETCH = 1000;
/** Sleep between queries that found nothing: the ceiling polls, it has no cross-process wake-up. */
const POLL_MS = 1;

function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const db = openSqlite(spec.resources.path!, spec.durability);
  const insert = db.prepare('INSERT INTO events (topic, key, body) VALUES (?, ?, ?)');
  const insertMany = db.transaction((from: number, n: number, sentAt: number) => {
    for (let seq = from; seq < from + n; seq++) insert.run(TOPIC, keyOf(seq), structuredEvent(seq, sentAt));
  });
  return Promise.resolve({
    publishBatch(from, n) {
      insertMany(from, n, nowUs());
      return Promise.resolve();
    },
    publishOne(seq, sentAt) {
      insert.run(TOPIC, keyOf(seq), structuredEvent(seq, sentAt));
      return Promise.resolve();
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  });
}

/**
 * Reads by rowid cursor kept in memory: an upper bound, the consuming side writes nothing (a real log also
 * commits positions). Competing members split the rows by `rowid % members`, like static partitions.
 */
function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const db = openSqlite(spec.resources.path!, spec.durability);
  const { member, members } = placement;
  const select = (
    members > 1
      ? db.prepare('SELECT id, body FROM events WHERE id > ? AND id % ? = ? ORDER BY id LIMIT ?')
      : db.prepare('SELECT id, body FROM events WHERE id > ? ORDER BY id LIMIT ?')
  ).raw(true);
  let position = 0;
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      const rows = (
        members > 1 ? select.all(position, members, member, FETCH) : select.all(position, FETCH)
      ) as [number, string][];
      if (rows.length === 0) {
        await sleep(POLL_MS);
        continue;
      }
      for (const [, body] of rows) sink.accept(stampOfStructured(body));
      position = rows[rows.length - 1]![0];
      // Let IPC (progress, finish) through between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const done = loop();
  return Promise.resolve({
    async close() {
      running = false;
      await done;
      db.close();
    },
  });
}

export const sqliteRawClient: PeerClient = { producer, consumer };
