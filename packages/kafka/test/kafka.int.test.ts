import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPublisher, decodeRecord, defineEvent, type Delivery } from '@herald/core';
import { ackInto, delay, testSchema, transportPool, uniqueName, waitFor } from '@herald/core/testing';
import { Consumer, Producer, ProduceAcks, type Message } from '@platformatic/kafka';
import { partitionForKey } from '../src/index.ts';
import { closeClient } from '../src/kafka-context.ts';
import { brokerReachable, brokers, createTransport } from './fixtures/kafka-target.ts';

// Kafka-specific behaviour beyond the shared contract: interop with plain clients, key order under many
// redeliveries, hand-over between members, seek, and operating the dead-letter queue from another process.
const reachable = await brokerReachable();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const hint = `No Kafka broker at ${brokers.join(',')}: start one with "scripts/kafka/broker.sh start"`;

const Ping = (topic: string) =>
  defineEvent({ type: 'KafkaPinged', topic, schema: testSchema, key: (data) => data.key });

const TIMEOUT = 20_000;

function suite(): void {
  const { transport, subscribe, close } = transportPool(createTransport, 8);
  const seqOf = (delivery: Delivery): { key: string; seq: number } =>
    decodeRecord(delivery.record).data as { key: string; seq: number };

  after(close);

  it('writes records a plain Kafka client reads: key, partition, ce_ headers, JSON value', async () => {
    const t = transport();
    const topic = uniqueName('interop-out');
    const event = await createPublisher({ transport: t, source: '/kafka/test' }).publish(Ping(topic), {
      key: 'order-123',
      seq: 1,
    });
    const plain = new Consumer({
      clientId: 'plain',
      groupId: uniqueName('plain'),
      bootstrapBrokers: brokers,
    });
    try {
      const stream = await plain.consume({ topics: [topic], mode: 'earliest', autocommit: true });
      let received: Message | undefined;
      for await (const message of stream) {
        received = message;
        break;
      }
      await stream.close();
      const m = received!;
      assert.equal(m.key.toString(), 'order-123');
      assert.equal(m.partition, partitionForKey('order-123', 4), 'the Java-compatible partition');
      const headers = Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
      assert.equal(headers.ce_id, event.id);
      assert.equal(headers.ce_type, 'KafkaPinged');
      assert.equal(headers.ce_specversion, '1.0');
      assert.equal(headers.ce_partitionkey, 'order-123');
      assert.equal(headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(m.value.toString()), { key: 'order-123', seq: 1 });
    } finally {
      await closeClient(plain);
    }
  });

  it('reads what plain clients write, in binary and structured mode', async () => {
    const t = transport();
    const topic = uniqueName('interop-in');
    const got: Delivery[] = [];
    await subscribe(t, uniqueName('g'), topic, ackInto(got)).ready;
    const producer = new Producer({ clientId: 'plain', bootstrapBrokers: brokers, acks: ProduceAcks.ALL });
    try {
      await producer.send({
        messages: [
          {
            topic,
            key: Buffer.from('k'),
            value: Buffer.from('{"key":"k","seq":1}'),
            headers: new Map([
              [Buffer.from('ce_specversion'), Buffer.from('1.0')],
              [Buffer.from('ce_id'), Buffer.from('plain-1')],
              [Buffer.from('ce_source'), Buffer.from('/plain')],
              [Buffer.from('ce_type'), Buffer.from('KafkaPinged')],
              [Buffer.from('content-type'), Buffer.from('application/json')],
            ]),
          },
          {
            topic,
            key: Buffer.from('k'),
            value: Buffer.from(
              JSON.stringify({
                specversion: '1.0',
                id: 'plain-2',
                source: '/sdk',
                type: 'KafkaPinged',
                data: { seq: 2 },
              }),
            ),
            headers: new Map([[Buffer.from('content-type'), Buffer.from('application/cloudevents+json')]]),
          },
        ],
      });
    } finally {
      await producer.close();
    }
    await waitFor(() => got.length === 2, TIMEOUT, 'both records');
    const events = got.map((d) => decodeRecord(d.record));
    assert.deepEqual(
      events.map((e) => [e.id, e.source, e.data]),
      [
        ['plain-1', '/plain', { key: 'k', seq: 1 }],
        ['plain-2', '/sdk', { seq: 2 }],
      ],
    );
  });

  it('keeps every key in order through many delayed redeliveries, delivering each record once', async () => {
    const t = transport();
    const topic = uniqueName('order-retry');
    const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`);
    const perKey = 25;
    const acked = new Map<string, number[]>();
    let redeliveries = 0;
    await subscribe(
      t,
      uniqueName('g'),
      topic,
      async (d) => {
        const { key, seq } = seqOf(d);
        // A third of the records fail their first delivery (and some their second), with short delays.
        if ((seq % 3 === 0 && d.attempt === 1) || (seq % 7 === 0 && d.attempt === 2)) {
          redeliveries++;
          await d.retryLater(Math.floor(Math.random() * 40), { name: 'Error', message: 'later' });
          return;
        }
        acked.set(key, [...(acked.get(key) ?? []), seq]);
        await d.ack();
      },
      8,
    ).ready;
    const publisher = createPublisher({ transport: t, source: '/kafka/test' });
    for (let seq = 0; seq < perKey; seq++) {
      await Promise.all(keys.map((key) => publisher.publish(Ping(topic), { key, seq })));
    }
    await waitFor(
      () => keys.every((k) => (acked.get(k)?.length ?? 0) >= perKey),
      TIMEOUT * 2,
      'every record acked',
    );
    await delay(300);
    for (const key of keys) {
      assert.deepEqual(
        acked.get(key),
        Array.from({ length: perKey }, (_, i) => i),
        `order of ${key}`,
      );
    }
    assert.ok(redeliveries >= keys.length * 9, `redeliveries happened (${redeliveries})`);
  });

  it('hands a leaving member’s partitions to the rest without losing a record', async () => {
    const group = uniqueName('handover');
    const topic = uniqueName('handover');
    const seen = new Set<string>();
    const first = subscribe(transport(), group, topic, async (d) => {
      seen.add(d.record.attributes.id!);
      await delay(2);
      await d.ack();
    });
    await first.ready;
    await subscribe(transport(), group, topic, async (d) => {
      seen.add(d.record.attributes.id!);
      await d.ack();
    }).ready;
    const publisher = createPublisher({ transport: transport(), source: '/kafka/test' });
    const ids: string[] = [];
    for (let seq = 0; seq < 10; seq++) {
      const batch = await Promise.all(
        Array.from({ length: 16 }, (_, k) => publisher.publish(Ping(topic), { key: `k${k}`, seq })),
      );
      ids.push(...batch.map((e) => e.id));
      if (seq === 4) await first.close({ timeoutMs: 5000 });
    }
    await waitFor(() => ids.every((id) => seen.has(id)), TIMEOUT, 'every record');
  });

  it('seeks a group by time and by offset, and refuses while a member is active', async () => {
    const t = transport();
    const group = uniqueName('seek');
    const topic = uniqueName('seek');
    const publisher = createPublisher({ transport: t, source: '/kafka/test' });
    await publisher.publish(Ping(topic), { key: 'a', seq: 0 });
    await delay(50);
    const middle = new Date();
    await delay(50);
    await publisher.publish(Ping(topic), { key: 'a', seq: 1 });
    const seen: number[] = [];
    const subscription = subscribe(t, group, topic, async (d) => {
      seen.push(seqOf(d).seq);
      await d.ack();
    });
    await subscription.ready;
    await waitFor(() => seen.length === 2, TIMEOUT, 'the first pass');
    await assert.rejects(() => t.seek!(group, topic, 'earliest'), { code: 'HERALD_UNSUPPORTED' });
    await subscription.close();
    await t.seek!(group, topic, { time: middle });
    const again = subscribe(t, group, topic, async (d) => {
      seen.push(seqOf(d).seq);
      await d.ack();
    });
    await again.ready;
    await waitFor(() => seen.length === 3, TIMEOUT, 'the replay from the time');
    assert.deepEqual(seen, [0, 1, 1]);
    await again.close();
    const partition = partitionForKey('a', 4);
    await t.seek!(group, topic, { offset: '0' });
    const fromOffset: number[] = [];
    await subscribe(t, group, topic, async (d) => {
      assert.equal(d.partition, partition);
      fromOffset.push(seqOf(d).seq);
      await d.ack();
    }).ready;
    await waitFor(() => fromOffset.length === 2, TIMEOUT, 'the replay from offset 0');
  });

  it('operates the dead-letter queue from another process: list, discard, replay with edited data', async () => {
    const t = transport();
    const topic = uniqueName('dlq-ops');
    const group = uniqueName('g');
    const handled: string[] = [];
    let broken = true;
    await subscribe(t, group, topic, async (d) => {
      if (broken) {
        await d.deadLetter({
          error: { name: 'Error', message: 'broken' },
          attempts: d.attempt,
          reason: 'test',
        });
        return;
      }
      handled.push(Buffer.from(d.record.data).toString());
      await d.ack();
    }).ready;
    const publisher = createPublisher({ transport: t, source: '/kafka/test' });
    await publisher.publish(Ping(topic), { key: 'a', seq: 1 });
    await publisher.publish(Ping(topic), { key: 'b', seq: 2 });
    const operator = transport(); // plays another process: reads the topic from scratch
    await waitFor(async () => (await operator.deadLetters!.list({ group })).length === 2, TIMEOUT, 'two');
    const all = await operator.deadLetters!.list();
    assert.ok(all.filter((d) => d.group === group).length === 2, 'listed without a group filter too');
    const [first, second] = await operator.deadLetters!.list({ group, topic });
    assert.equal((await operator.deadLetters!.get(first!.id))?.record.topic, topic);
    assert.equal(await operator.deadLetters!.get(`${group}/999999`), undefined);
    await assert.rejects(() => operator.deadLetters!.replay(`${group}/999999`), {
      code: 'HERALD_DEAD_LETTER_NOT_FOUND',
    });
    await operator.deadLetters!.discard(first!.id);
    broken = false;
    await operator.deadLetters!.replay(second!.id, { data: Buffer.from('{"key":"b","seq":20}') });
    await waitFor(() => handled.length === 1, TIMEOUT, 'the replay');
    assert.deepEqual(handled, ['{"key":"b","seq":20}']);
    assert.equal((await operator.deadLetters!.list({ group })).length, 0);
    assert.equal((await t.deadLetters!.list({ group })).length, 0, 'the first process sees the markers');
  });

  it('returns receipts with consecutive offsets for a key', async () => {
    const t = transport();
    const topic = uniqueName('receipts');
    const data = new TextEncoder().encode('{}');
    const receipts = await t.publish(
      Array.from({ length: 5 }, (_, i) => ({
        topic,
        key: 'same',
        attributes: { specversion: '1.0', id: `r${i}`, source: '/s', type: 'T' },
        data,
      })),
    );
    assert.deepEqual(
      receipts.map((r) => r.offset),
      ['0', '1', '2', '3', '4'],
    );
    assert.ok(receipts.every((r) => r.partition === partitionForKey('same', 4)));
  });
}

if (reachable) {
  describe('kafka transport', suite);
} else if (inCi) {
  it('kafka transport needs its broker', () => assert.fail(hint));
} else {
  describe('kafka transport', () => {
    it('needs a broker', (t) => t.skip(hint));
  });
}
