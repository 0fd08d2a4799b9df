// NATS-specific behaviour beyond the shared contract: the wire format other clients see, order per key across a
// hand-over and under competing members, seek by offset and time, and the dead-letter operations.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { createPublisher, decodeRecord, defineEvent, partitionFor, type Delivery } from '@herald/core';
import {
  ackInto,
  delay,
  spawnTestChild,
  testSchema,
  transportPool,
  uniqueName,
  waitFor,
} from '@herald/core/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { Names } from '../src/index.ts';
import {
  cleanUp,
  createTransport,
  NATS_URL,
  reachServer,
  TEST_PREFIX,
  testOptions,
} from './nats-test-server.ts';

const nc = await reachServer();
const Ping = (topic: string) =>
  defineEvent({ type: 'NatsPinged', topic, schema: testSchema, key: (data) => data.key });
const names = new Names(TEST_PREFIX);
const partitions = testOptions.partitions!;

if (nc === undefined) {
  it('nats transport', (ctx) => ctx.skip(`no NATS server at ${NATS_URL} (set CI=true to fail instead)`));
} else {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const { transport, subscribe, close } = transportPool(createTransport, 4);
  const data = (delivery: Delivery) => decodeRecord(delivery.record).data as { key: string; seq: number };

  after(async () => {
    await close();
    await cleanUp(nc);
    await nc.close();
  });

  describe('nats transport', () => {
    it('writes CloudEvents binary mode on <topic>.<partition>, readable by a plain client', async () => {
      const t = transport();
      const topic = uniqueName('wire');
      const publisher = createPublisher({ transport: t, source: '/herald/nats-test' });
      const event = await publisher.publish(
        Ping(topic),
        { key: 'k 1', seq: 1, text: 'ünï' },
        { subject: 'a b' },
      );
      const partition = partitionFor('k 1', partitions);
      const stored = await jsm.streams.getMessage(names.topicStream(topic), {
        last_by_subj: `${topic}.${partition}`,
      });
      assert.ok(stored, 'stored on the partition subject');
      assert.equal(stored.header.get('ce-id'), event.id);
      assert.equal(stored.header.get('ce-specversion'), '1.0');
      assert.equal(stored.header.get('ce-type'), 'NatsPinged');
      assert.equal(stored.header.get('ce-source'), '/herald/nats-test');
      assert.equal(stored.header.get('ce-subject'), 'a%20b');
      assert.equal(stored.header.get('ce-partitionkey'), 'k%201');
      assert.equal(stored.header.get('ce-datacontenttype'), 'application/json');
      assert.deepEqual(stored.json(), { key: 'k 1', seq: 1, text: 'ünï' });
    });

    it('drops a re-published duplicate of an event (same source and id)', async () => {
      const t = transport();
      const topic = uniqueName('dedupe');
      const record = {
        topic,
        key: 'k',
        attributes: { specversion: '1.0', id: 'same-id', source: '/s', type: 'T' },
        data: new Uint8Array(),
      };
      const [first] = await t.publish([record]);
      const [again] = await t.publish([record]);
      assert.equal(again!.offset, first!.offset);
      assert.equal((await jsm.streams.info(names.topicStream(topic))).state.messages, 1);
    });

    it('keeps a record that a handler works on longer than the ack wait from being redelivered', async () => {
      const t = transport();
      const topic = uniqueName('long');
      const deliveries: number[] = [];
      let done = false;
      await subscribe(t, uniqueName('g'), topic, async (d) => {
        deliveries.push(d.attempt);
        await delay(testOptions.ackWaitMs! + 1500);
        await d.ack();
        done = true;
      }).ready;
      await createPublisher({ transport: t, source: '/herald/nats-test' }).publish(Ping(topic), {
        key: 'k',
        seq: 0,
      });
      await waitFor(() => done, 15_000, 'the long handler');
      await delay(500);
      assert.deepEqual(deliveries, [1]);
    });

    it('delivers a structured-mode event published by a plain client', async () => {
      const t = transport();
      const topic = uniqueName('structured');
      const got: Delivery[] = [];
      await subscribe(t, uniqueName('g'), topic, ackInto(got)).ready;
      const h = headers();
      h.set('Content-Type', 'application/cloudevents+json');
      const body = {
        specversion: '1.0',
        id: 'plain-1',
        source: '/plain',
        type: 'NatsPinged',
        data: { key: 'p', seq: 1 },
      };
      await js.publish(`${topic}.0`, JSON.stringify(body), { headers: h });
      await waitFor(() => got.length === 1, 10_000, 'the event');
      const event = decodeRecord(got[0]!.record);
      assert.equal(event.id, 'plain-1');
      assert.deepEqual(event.data, { key: 'p', seq: 1 });
      assert.equal(got[0]!.partition, 0);
    });

    it('keeps a parked key in order when its partition changes hands', async () => {
      const topic = uniqueName('handover');
      const group = uniqueName('g');
      const first = transport();
      let parked = false;
      const firstSub = subscribe(first, group, topic, async (d) => {
        if (data(d).seq === 0) {
          parked = true;
          await d.retryLater(1500, { name: 'Error', message: 'later' });
        }
        // seq 1 is held behind seq 0 and never reaches this handler on this member.
      });
      await firstSub.ready;
      const publisher = createPublisher({ transport: first, source: '/herald/nats-test' });
      await publisher.publish(Ping(topic), { key: 'k', seq: 0 });
      await publisher.publish(Ping(topic), { key: 'k', seq: 1 });
      await waitFor(() => parked, 10_000, 'the park');
      await delay(200);
      await firstSub.close();
      const log: string[] = [];
      await subscribe(transport(), group, topic, async (d) => {
        log.push(`${data(d).seq}@${d.attempt}`);
        await d.ack();
      }).ready;
      await waitFor(() => log.length >= 2, 15_000, 'both records');
      await delay(300);
      assert.deepEqual(log, ['0@2', '1@1']);
    });

    it('keeps a parked key in order when its member dies', async () => {
      const topic = uniqueName('failover');
      const group = uniqueName('g');
      const script = fileURLToPath(new URL('./park-child.ts', import.meta.url));
      const child = spawnTestChild(['--conditions=@herald/source', '--import', 'tsx'], script, [
        topic,
        group,
      ]);
      try {
        await waitFor(() => child.output().includes('READY'), 15_000, 'the child to join');
        const t = transport();
        const publisher = createPublisher({ transport: t, source: '/herald/nats-test' });
        await publisher.publish(Ping(topic), { key: 'k', seq: 0 });
        await publisher.publish(Ping(topic), { key: 'k', seq: 1 });
        await publisher.publish(Ping(topic), { key: 'other', seq: 0 });
        assert.equal(await child.exited, 'SIGKILL');
        assert.ok(child.output().includes('PARKED'), 'the child parked seq 0 before dying');
        const log: string[] = [];
        await subscribe(t, group, topic, async (d) => {
          const { key, seq } = data(d);
          if (key === 'k') log.push(`${seq}@${d.attempt}`);
          await d.ack();
        }).ready;
        await waitFor(() => log.length >= 2, 20_000, 'both records of the key');
        await delay(300);
        assert.deepEqual(log, ['0@2', '1@1']);
      } finally {
        child.kill();
      }
    });

    it('keeps order per key while members join and leave', async () => {
      const topic = uniqueName('members');
      const group = uniqueName('g');
      const seen = new Map<string, number[]>();
      const handler = async (d: Delivery): Promise<void> => {
        const { key, seq } = data(d);
        await delay(2);
        seen.set(key, [...(seen.get(key) ?? []), seq]);
        await d.ack();
      };
      const a = subscribe(transport(), group, topic, handler);
      await a.ready;
      const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
      const publisher = createPublisher({ transport: transport(), source: '/herald/nats-test' });
      const publishing = (async () => {
        for (let seq = 0; seq < 40; seq++) {
          await Promise.all(keys.map((key) => publisher.publish(Ping(topic), { key, seq })));
          await delay(15);
        }
      })();
      await delay(150);
      const b = subscribe(transport(), group, topic, handler);
      await b.ready;
      await delay(200);
      await a.close();
      await publishing;
      await waitFor(() => keys.every((k) => (seen.get(k)?.length ?? 0) >= 40), 20_000, 'every record');
      await delay(200);
      for (const key of keys) {
        const order = seen.get(key)!;
        assert.deepEqual(
          order,
          Array.from({ length: 40 }, (_, i) => i),
          `order of ${key}`,
        );
      }
    });

    it('seeks a group to an offset and to a time', async () => {
      const t = transport();
      const topic = uniqueName('seek');
      const group = uniqueName('g');
      const seen: number[] = [];
      const acking = async (d: Delivery): Promise<void> => {
        seen.push(data(d).seq);
        await d.ack();
      };
      const publisher = createPublisher({ transport: t, source: '/herald/nats-test' });
      for (let seq = 0; seq < 3; seq++) await publisher.publish(Ping(topic), { key: 'k', seq });
      await delay(50);
      const midway = new Date();
      await delay(50);
      for (let seq = 3; seq < 6; seq++) await publisher.publish(Ping(topic), { key: 'k', seq });
      let subscription = subscribe(t, group, topic, acking);
      await subscription.ready;
      await waitFor(() => seen.length === 6, 10_000, 'the first pass');
      await subscription.close();
      const stream = await jsm.streams.getMessage(names.topicStream(topic), {
        last_by_subj: `${topic}.${partitionFor('k', partitions)}`,
      });
      await t.seek!(group, topic, { offset: String(stream!.seq - 1) });
      seen.length = 0;
      subscription = subscribe(t, group, topic, acking);
      await subscription.ready;
      await waitFor(() => seen.length === 2, 10_000, 'the replay from an offset');
      assert.deepEqual(seen, [4, 5]);
      await subscription.close();
      await t.seek!(group, topic, { time: midway });
      seen.length = 0;
      subscribe(t, group, topic, acking);
      await waitFor(() => seen.length === 3, 10_000, 'the replay from a time');
      assert.deepEqual(seen, [3, 4, 5]);
    });

    it('lists, inspects, edits on replay and discards dead letters', async () => {
      const t = transport();
      const topic = uniqueName('dlq');
      const group = uniqueName('g.with.dots');
      const other = uniqueName('other');
      const replayed: Delivery[] = [];
      let failing = true;
      for (const g of [group, other]) {
        await subscribe(t, g, topic, async (d) => {
          if (g === group && !failing) {
            replayed.push(d);
            await d.ack();
            return;
          }
          await d.deadLetter({
            error: { name: 'Error', message: `boom ✗ in ${g}`, stack: 'Error: boom\n    at line 1' },
            attempts: 3,
            reason: 'max-attempts',
          });
        }).ready;
      }
      const publisher = createPublisher({ transport: t, source: '/herald/nats-test' });
      await publisher.publish(Ping(topic), { key: 'a', seq: 1 });
      await publisher.publish(Ping(topic), { key: 'b', seq: 2 });
      const dlq = t.deadLetters!;
      await waitFor(async () => (await dlq.list({ topic })).length === 4, 10_000, 'four dead letters');
      const mine = await dlq.list({ group });
      assert.equal(mine.length, 2);
      assert.equal((await dlq.list({ group, limit: 1 })).length, 1);
      const [dead] = mine;
      assert.equal(dead!.group, group);
      assert.equal(dead!.record.topic, topic);
      assert.equal(dead!.failure.error.message, `boom ✗ in ${group}`);
      assert.equal(dead!.failure.error.stack, 'Error: boom\n    at line 1');
      assert.equal(dead!.failure.attempts, 3);
      assert.ok(!Number.isNaN(Date.parse(dead!.deadLetteredAt)));
      assert.deepEqual(await dlq.get(dead!.id), dead);
      assert.equal(await dlq.get('999999999'), undefined);
      failing = false;
      await dlq.replay(dead!.id, { data: new TextEncoder().encode(JSON.stringify({ key: 'a', seq: 99 })) });
      await waitFor(() => replayed.length === 1, 10_000, 'the replay');
      assert.equal(data(replayed[0]!).seq, 99);
      assert.equal(replayed[0]!.attempt, 1);
      assert.equal(replayed[0]!.offset, dead!.offset);
      await dlq.discard(mine[1]!.id);
      await dlq.discard(mine[1]!.id);
      assert.equal((await dlq.list({ group })).length, 0);
      assert.equal((await dlq.list({ group: other })).length, 2, 'the other group is untouched');
      await assert.rejects(dlq.replay(mine[1]!.id), { code: 'HERALD_DEAD_LETTER_NOT_FOUND' });
    });
  });
}
