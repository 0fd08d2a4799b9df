import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import {
  checkTransportUrl,
  memory,
  resolveTransportUrl,
  transportFromUrl,
  withTopicPrefix,
} from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { resolveNatsOptions } from '@herald/nats';
import { brokerFromEnv, defaultBrokerUrl } from '../src/broker.ts';
import { dataDir, REPO_ROOT } from '../src/runtime/config.ts';

/** What each transport's URL form reads (each transport package owns its form; core finds it by scheme). */
async function parseBrokerUrl(url: string): Promise<{ kind: string; url: string; options: unknown }> {
  const scheme = await resolveTransportUrl(url);
  return { kind: scheme.transport, url, options: scheme.parse(url) };
}

describe('broker selection (HERALD_BROKER)', () => {
  it('defaults to the embedded log in the data folder', () => {
    assert.equal(dataDir({}), resolve(REPO_ROOT, '.data'));
    assert.equal(defaultBrokerUrl({ HERALD_DATA_DIR: '/tmp/shop' }), 'sqlite:/tmp/shop/herald.db');
  });

  it('parses sqlite URLs in their usual spellings, with options', async () => {
    const path = async (url: string) => ((await parseBrokerUrl(url)).options as { path?: string }).path;
    assert.equal(await path('sqlite:/var/herald.db'), '/var/herald.db');
    assert.equal(await path('sqlite:///var/herald.db'), '/var/herald.db');
    assert.equal(await path('sqlite:data/herald.db'), resolve('data/herald.db'));
    assert.deepEqual(
      (await parseBrokerUrl('sqlite:/x.db?partitions=8&durability=D2&sessionTimeoutMs=3000')).options,
      {
        path: '/x.db',
        partitions: 8,
        durability: 'D2',
        sessionTimeoutMs: 3000,
      },
    );
  });

  it('parses kafka://, amqp:// and nats:// URLs with their options', async () => {
    assert.deepEqual(await parseBrokerUrl('kafka://127.0.0.1:19092'), {
      kind: 'kafka',
      url: 'kafka://127.0.0.1:19092',
      options: { brokers: ['127.0.0.1:19092'] },
    });
    assert.deepEqual(
      (await parseBrokerUrl('kafka://k1:9092,k2:9093/?partitions=12&sessionTimeoutMs=3000&clientId=shop'))
        .options,
      { brokers: ['k1:9092', 'k2:9093'], partitions: 12, sessionTimeoutMs: 3000, clientId: 'shop' },
    );
    assert.deepEqual((await parseBrokerUrl('amqp://guest:guest@127.0.0.1:5672')).options, {
      url: 'amqp://guest:guest@127.0.0.1:5672',
    });
    assert.deepEqual(
      (await parseBrokerUrl('amqps://u:p@mq:5671/shop?partitions=4&queueType=classic&frameMax=8192')).options,
      { url: 'amqps://u:p@mq:5671/shop?frameMax=8192', partitions: 4, queueType: 'classic' },
    );
    assert.deepEqual((await parseBrokerUrl('nats://127.0.0.1:4222,127.0.0.1:4223?ackWaitMs=5000')).options, {
      servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'],
      ackWaitMs: 5000,
    });
    assert.deepEqual((await parseBrokerUrl('nats://u:p@n1:4222')).options, {
      servers: ['nats://u:p@n1:4222'],
    });
  });

  it('parses sqs:// URLs into the SNS/SQS transport options', async () => {
    const config = await parseBrokerUrl('sqs://127.0.0.1:4566?region=eu-west-1&fifo=true');
    assert.equal(config.kind, 'sqs');
    assert.deepEqual(
      { ...(config.options as { endpoint?: string; region?: string; fifo?: boolean }) },
      { ...(config.options as object), endpoint: 'http://127.0.0.1:4566', region: 'eu-west-1', fifo: true },
    );
  });

  it('refuses unknown schemes and bad URLs with HERALD_BROKER_URL naming the accepted schemes', async () => {
    for (const url of [
      'redis://127.0.0.1:6379',
      'herald.db',
      'sqlite:',
      'sqlite:/x.db?partitions=many',
      'sqlite:/x.db?color=blue',
      'kafka:127.0.0.1:9092',
      'kafka://',
      'kafka://127.0.0.1',
      'kafka://127.0.0.1:99999',
      'kafka://127.0.0.1:9092/topic',
      'kafka://127.0.0.1:9092?partitions=',
      'kafka://127.0.0.1:9092?color=blue',
      'amqp://a:5672,b:5672',
      'amqp://127.0.0.1:5672?prefetch=lots',
      'nats://127.0.0.1:4222/path',
      'nats://127.0.0.1:4222?servers=x',
    ]) {
      await assert.rejects(
        () => checkTransportUrl(url),
        (error: { code?: string; message: string }) =>
          error.code === 'HERALD_BROKER_URL' &&
          ['sqlite:', 'kafka:', 'amqp:', 'amqps:', 'nats:'].every((scheme) =>
            error.message.includes(scheme),
          ) &&
          error.message.includes(url),
        url,
      );
    }
  });

  it('hands every transport options it accepts (checked by the transport, nothing connects yet)', async () => {
    for (const url of [
      'kafka://127.0.0.1:19092?partitions=3&sessionTimeoutMs=3000&heartbeatIntervalMs=300',
      'amqp://guest:guest@127.0.0.1:5672/%2F?partitions=4&queueType=classic&heartbeat=5',
      'sqs://127.0.0.1:4566?region=us-east-1&fifo=true',
      `sqlite:${join(mkdtempSync(join(tmpdir(), 'herald-broker-test-')), 'herald.db')}`,
    ]) {
      const transport = await transportFromUrl(url);
      assert.equal(transport.name, (await parseBrokerUrl(url)).kind, url);
      await transport.close();
    }
    const nats = await parseBrokerUrl('nats://127.0.0.1:4222?ackWaitMs=4000');
    assert.equal(nats.kind, 'nats');
    assert.equal(
      resolveNatsOptions(nats.options as Parameters<typeof resolveNatsOptions>[0]).ackWaitMs,
      4000,
    );
    await assert.rejects(
      () => transportFromUrl('kafka://127.0.0.1:19092?sessionTimeoutMs=-1'),
      (error: { code?: string; message: string }) =>
        error.code === 'HERALD_CONFIG' && error.message.includes('sessionTimeoutMs'),
    );
  });

  it('opens HERALD_BROKER with HERALD_TOPIC_PREFIX through core, and reports the URL masked', async () => {
    const { url, transport } = await brokerFromEnv({ HERALD_BROKER: 'memory:', HERALD_TOPIC_PREFIX: 't1-' });
    assert.equal(url, 'memory:');
    assert.equal(transport.name, 'memory');
    const [receipt] = await transport.publish([
      { topic: 'orders', key: 'k', attributes: { id: '1', source: '/t', type: 'T' }, data: new Uint8Array() },
    ]);
    assert.equal(receipt!.topic, 'orders', 'the prefix is hidden from the service');
    await transport.close();
    await assert.rejects(
      () => brokerFromEnv({ HERALD_BROKER: 'nats://u:secretpw@h:4222,h:4223?bad=1' }),
      (error: Error) => !error.message.includes('secretpw') && error.message.includes('bad'),
    );
  });

  it('keeps passwords out of its errors', async () => {
    await assert.rejects(
      () => checkTransportUrl('amqp://guest:secret@127.0.0.1:5672?nope=1'),
      (error: Error) => !error.message.includes('secret') && error.message.includes('guest:***@'),
    );
  });
});

describe('topic prefix (HERALD_TOPIC_PREFIX)', () => {
  it('prefixes topics and groups on the broker and hides the prefix from the services', async () => {
    const inner = memory();
    const prefixed = withTopicPrefix(inner, 'run1-');
    const seen: { topic: string; group: string }[] = [];
    const direct: string[] = [];
    const viaPrefix = prefixed.subscribe({ group: 'g', topics: ['orders'], concurrency: 1 }, async (d) => {
      seen.push({ topic: d.record.topic, group: d.group });
      await d.ack();
    });
    const raw = inner.subscribe(
      { group: 'raw', topics: ['run1-orders', 'orders'], concurrency: 1 },
      async (d) => {
        direct.push(d.record.topic);
        await d.ack();
      },
    );
    await Promise.all([viaPrefix.ready, raw.ready]);
    const record = { key: 'k', attributes: { id: '1', source: '/t', type: 'T' }, data: new Uint8Array() };
    const [receipt] = await prefixed.publish([{ ...record, topic: 'orders' }]);
    assert.equal(receipt!.topic, 'orders');
    await inner.publish([{ ...record, topic: 'orders' }]);
    await waitFor(() => seen.length === 1 && direct.length === 2);
    assert.deepEqual(seen, [{ topic: 'orders', group: 'g' }], 'the unprefixed topic is another one');
    assert.deepEqual(direct.sort(), ['orders', 'run1-orders']);
    await prefixed.close();
  });

  it('is the transport itself without a prefix, and refuses a bad one at start-up', () => {
    const inner = memory();
    assert.equal(withTopicPrefix(inner, ''), inner);
    assert.throws(() => withTopicPrefix(inner, 'has space'), { code: 'HERALD_CONFIG' });
  });
});
