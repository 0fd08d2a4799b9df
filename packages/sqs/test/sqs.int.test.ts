import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createPublisher, defineEvent, type Delivery, type Transport } from '@herald/core';
import { delay, testSchema, uniqueName, waitFor } from '@herald/core/testing';
import { MAX_MESSAGE_ATTRIBUTES, parseSqsUrl, sqs, type SqsTransport } from '../src/index.ts';
import { startEmulator } from '../src/testing.ts';
import { ENDPOINT_VARIABLE, testTransport } from './sqs-test-settings.ts';

const emulator = await startEmulator();
process.env[ENDPOINT_VARIABLE] = emulator.endpoint;

const raw = new SQSClient({
  endpoint: emulator.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const open: Transport[] = [];
after(async () => {
  await Promise.allSettled(open.map((t) => t.close({ timeoutMs: 100 })));
  raw.destroy();
  await emulator.stop();
});

function transport(options: Parameters<typeof testTransport>[0] = {}): SqsTransport {
  const t = testTransport(options);
  open.push(t);
  return t;
}

const Ping = (topic: string) =>
  defineEvent({ type: 'Pinged', topic, schema: testSchema, key: (data) => data.key });

function collect(t: Transport, group: string, topic: string, into: Delivery[], hold = 0) {
  return t.subscribe({ group, topics: [topic], concurrency: 4 }, async (delivery) => {
    into.push(delivery);
    if (hold > 0) await delay(hold);
    await delivery.ack();
  });
}

describe('sqs transport on the emulator', () => {
  it('puts the CloudEvents context in at most 9 message attributes a plain SQS reader can use', async () => {
    const t = transport();
    const topic = uniqueName('wire');
    const group = uniqueName('plain');
    await t.declareGroup(topic, group);
    await createPublisher({ transport: t, source: '/test' }).publish(
      Ping(topic),
      { key: 'k', seq: 1 },
      {
        subject: 's',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'a=b',
        correlationId: 'c',
        causationId: 'd',
        extensions: { tenant: 'acme', region: 'eu', tier: 'gold' },
      },
    );
    const url = t.declaredTopology().queues[t.names.queue(topic, group)]!;
    const answer = await raw.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    const message = answer.Messages?.[0];
    assert.ok(message, 'SNS delivered the event to the subscribed queue');
    const names = Object.keys(message.MessageAttributes ?? {});
    assert.ok(names.length < MAX_MESSAGE_ATTRIBUTES, names.join(', '));
    assert.equal(message.MessageAttributes?.ce_type?.StringValue, 'Pinged');
    assert.equal(message.MessageAttributes?.['content-type']?.StringValue, 'application/json');
    assert.equal(message.Attributes?.MessageGroupId, 'k');
    assert.deepEqual(JSON.parse(message.Body!), { key: 'k', seq: 1 });
  });

  it('publishes in batches, keeping order per key, and round-trips binary and empty data', async () => {
    const t = transport();
    const topic = uniqueName('batch');
    const got: Delivery[] = [];
    await collect(t, uniqueName('g'), topic, got).ready;
    const receipts = await t.publish(
      Array.from({ length: 25 }, (_, seq) => ({
        topic,
        key: seq % 2 === 0 ? 'even' : 'odd',
        attributes: {
          specversion: '1.0',
          id: `id-${seq}`,
          source: '/t',
          type: 'T',
          datacontenttype: 'application/octet-stream',
        },
        data: seq === 24 ? new Uint8Array(0) : new Uint8Array([seq, 0xff, 0x00]),
      })),
    );
    assert.equal(receipts.length, 25);
    await waitFor(() => got.length === 25, 10_000, '25 events');
    for (const key of ['even', 'odd']) {
      const seqs = got
        .filter((d) => d.record.key === key)
        .map((d) => Number(d.record.attributes.id!.slice(3)));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `order of ${key}`,
      );
    }
    const third = got.find((d) => d.record.attributes.id === 'id-3')!;
    assert.deepEqual([...third.record.data], [3, 0xff, 0x00]);
    assert.equal(got.find((d) => d.record.attributes.id === 'id-24')!.record.data.length, 0);
  });

  it('delivers an event published twice with the same id once (FIFO deduplication)', async () => {
    const t = transport();
    const topic = uniqueName('dedup');
    const got: Delivery[] = [];
    await collect(t, uniqueName('g'), topic, got).ready;
    const record = {
      topic,
      key: 'k',
      attributes: { specversion: '1.0', id: 'same-id', source: '/t', type: 'T' },
      data: new TextEncoder().encode('{}'),
    };
    await t.publish([record]);
    await t.publish([record]);
    await t.publish([{ ...record, attributes: { ...record.attributes, id: 'marker' } }]);
    await waitFor(() => got.some((d) => d.record.attributes.id === 'marker'), 10_000, 'the marker');
    await delay(200);
    assert.deepEqual(
      got.map((d) => d.record.attributes.id),
      ['same-id', 'marker'],
    );
  });

  it("keeps a long handler's message from the other members (heartbeat)", async () => {
    const topic = uniqueName('heartbeat');
    const group = uniqueName('g');
    const first: Delivery[] = [];
    const second: Delivery[] = [];
    // Visibility 2 s; the handler takes 3.5 s: without the heartbeat the other member would get it too.
    await collect(transport(), group, topic, first, 3500).ready;
    await collect(transport(), group, topic, second, 3500).ready;
    await createPublisher({ transport: transport(), source: '/test' }).publish(Ping(topic), {
      key: 'k',
      seq: 1,
    });
    await waitFor(() => first.length + second.length === 1, 10_000, 'the delivery');
    await delay(4500);
    assert.equal(first.length + second.length, 1);
  });

  it('reads what SQS moved to the dead-letter queue, and replays it with edited data to that group only', async () => {
    const t = transport({ maxReceiveCount: 2 });
    const topic = uniqueName('redrive');
    const group = uniqueName('crashing');
    const other = uniqueName('other');
    await t.declareGroup(topic, group);
    const otherSeen: Delivery[] = [];
    await collect(t, other, topic, otherSeen).ready;
    await createPublisher({ transport: t, source: '/test' }).publish(Ping(topic), { key: 'k', seq: 1 });
    // A consumer that crashes every time: three receives that never delete, the third moves it.
    const url = t.declaredTopology().queues[t.names.queue(topic, group)]!;
    for (let i = 0; i < 3; i++) {
      await raw.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
    }
    const [dead] = await t.deadLetters.list({ group });
    assert.ok(dead, 'SQS moved it to the dead-letter queue');
    assert.equal(dead.failure.reason, 'broker-max-receive-count');
    assert.equal(dead.record.topic, topic);
    assert.equal(dead.group, group);
    assert.equal((await t.deadLetters.get(dead.id))?.id, dead.id);

    const seen: Delivery[] = [];
    await collect(t, group, topic, seen).ready;
    await t.deadLetters.replay(dead.id, { data: new TextEncoder().encode('{"key":"k","seq":2}') });
    await waitFor(() => seen.length === 1, 10_000, 'the replay');
    assert.equal(new TextDecoder().decode(seen[0]!.record.data), '{"key":"k","seq":2}');
    assert.equal(seen[0]!.record.attributes.id, dead.record.attributes.id);
    assert.equal(otherSeen.length, 1, 'the other group saw the event once');
    assert.deepEqual(await t.deadLetters.list({ group }), []);
    await assert.rejects(t.deadLetters.replay(dead.id), { code: 'HERALD_DEAD_LETTER_NOT_FOUND' });
  });

  it('lists dead letters of every group under its prefix, and discards one', async () => {
    const prefix = `${uniqueName('p').replace(/[^A-Za-z0-9-]/g, '')}-`;
    const t = transport({ prefix });
    const topic = uniqueName('discard');
    const group = uniqueName('g');
    await t.subscribe({ group, topics: [topic], concurrency: 1 }, (d) =>
      d.deadLetter({ error: { name: 'Error', message: 'no' }, attempts: 1, reason: 'permanent-error' }),
    ).ready;
    await createPublisher({ transport: t, source: '/test' }).publish(Ping(topic), { key: 'k', seq: 1 });
    // Another transport with the same prefix finds the group's queue by name.
    const operator = transport({ prefix });
    await waitFor(async () => (await operator.deadLetters.list()).length === 1, 10_000, 'the dead letter');
    const [dead] = await operator.deadLetters.list();
    assert.equal(dead!.group, group);
    assert.equal(dead!.failure.reason, 'permanent-error');
    await operator.deadLetters.discard(dead!.id);
    assert.deepEqual(await operator.deadLetters.list({ group }), []);
  });

  it('runs from an sqs:// URL alone against a local endpoint (no region or credentials configured)', async () => {
    const url = `sqs://${new URL(emulator.endpoint).host}?fifo=true&prefix=url-&waitTimeSeconds=1`;
    const t = sqs({ ...parseSqsUrl(url), onError: () => undefined });
    open.push(t);
    const topic = uniqueName('url');
    const got: Delivery[] = [];
    await collect(t, uniqueName('g'), topic, got).ready;
    await createPublisher({ transport: t, source: '/t' }).publish(Ping(topic), { key: 'k', seq: 1 });
    await waitFor(() => got.length === 1, 10_000, 'the event');
    assert.equal(t.options.fifo, true);
    assert.ok(Object.keys(t.declaredTopology().queues).every((name) => name.startsWith('url-')));
  });

  describe('provision: false', () => {
    it('names the missing topic, queue or dead-letter queue with HERALD_CONFIG', async () => {
      const t = transport({ provision: false, accountId: '000000000000' });
      const topic = uniqueName('absent');
      await assert.rejects(
        createPublisher({ transport: t, source: '/t' }).publish(Ping(topic), { key: 'k', seq: 1 }),
        {
          code: 'HERALD_CONFIG',
          message: new RegExp(`SNS topic "${t.names.topic(topic)}".*does not exist`),
        },
      );
      const group = uniqueName('g');
      const subscription = t.subscribe({ group, topics: [topic], concurrency: 1 }, (d) => d.ack());
      await assert.rejects(subscription.ready, {
        code: 'HERALD_CONFIG',
        message: new RegExp(`SQS queue "${t.names.queue(topic, group)}".*does not exist`),
      });
      await subscription.close();
      // Without accountId the topic is looked for with ListTopics.
      const listing = transport({ provision: false });
      await assert.rejects(listing.declareTopic(topic), { code: 'HERALD_CONFIG', message: /does not exist/ });
    });

    it('uses what exists, found by name', async () => {
      const topic = uniqueName('existing');
      const group = uniqueName('g');
      await transport().declareGroup(topic, group);
      for (const options of [{ accountId: '000000000000' }, {}]) {
        const t = transport({ provision: false, ...options });
        const got: Delivery[] = [];
        await collect(t, group, topic, got).ready;
        await createPublisher({ transport: t, source: '/t' }).publish(Ping(topic), { key: 'k', seq: 1 });
        await waitFor(() => got.length === 1, 10_000, 'the event');
        await t.close();
      }
    });
  });
});
