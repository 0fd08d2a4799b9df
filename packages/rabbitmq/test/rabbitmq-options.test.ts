import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertSubscribeRefused } from '@herald/core/testing';
import { connectionUrl, resolveOptions } from '../src/rabbitmq-options.ts';
import { rabbitmq } from '../src/index.ts';

const url = 'amqp://guest:guest@127.0.0.1:5672';

describe('rabbitmq options', () => {
  it('applies the defaults', () => {
    assert.deepEqual(resolveOptions({ url }), {
      url,
      partitions: 8,
      prefetch: 32,
      queueType: 'quorum',
      prefix: '',
      rebalanceIntervalMs: 1000,
      heartbeatSeconds: 10,
      publishTimeoutMs: 30_000,
      connectAttempts: 3,
      connectionName: 'herald',
      tls: undefined,
    });
  });

  const invalid: [string, Record<string, unknown>][] = [
    ['url', { url: 'http://127.0.0.1' }],
    ['url', { url: 'not a url' }],
    ['partitions', { partitions: 0 }],
    ['partitions', { partitions: 2.5 }],
    ['prefetch', { prefetch: -1 }],
    ['queueType', { queueType: 'stream' }],
    ['prefix', { prefix: 'has space' }],
    ['rebalanceIntervalMs', { rebalanceIntervalMs: 0 }],
    ['heartbeatSeconds', { heartbeatSeconds: '10' }],
    ['publishTimeoutMs', { publishTimeoutMs: 0 }],
    ['connectAttempts', { connectAttempts: 0 }],
    ['onError', { onError: 'log' }],
  ];
  for (const [option, patch] of invalid) {
    it(`refuses a bad "${option}" at start-up, naming it`, () => {
      assert.throws(
        () => rabbitmq({ url, ...patch }),
        (error: unknown) => {
          const e = error as { code: string; details: { option: string } };
          return e.code === 'HERALD_CONFIG' && e.details.option === option;
        },
      );
    });
  }

  it('shows a refused URL with its password masked', () => {
    for (const bad of ['http://app:secretpw@127.0.0.1', 'amqp://app:secretpw@127.0.0.1:99999999']) {
      assert.throws(
        () => rabbitmq({ url: bad }),
        (error: unknown) => {
          const e = error as { code: string; message: string; details: { got: unknown } };
          assert.equal(e.code, 'HERALD_CONFIG');
          assert.match(e.message, /app:\*\*\*@127\.0\.0\.1/);
          assert.doesNotMatch(`${e.message} ${JSON.stringify(e.details)}`, /secretpw/);
          return true;
        },
      );
    }
  });

  it('adds the heartbeat to the URL unless the URL sets one', () => {
    const options = resolveOptions({ url: `${url}/%2F`, heartbeatSeconds: 7 });
    assert.equal(connectionUrl(options), `${url}/%2F?heartbeat=7`);
    assert.equal(connectionUrl(resolveOptions({ url: `${url}?heartbeat=3` })), `${url}?heartbeat=3`);
  });

  it('fails with HERALD_TRANSPORT when no broker listens', async () => {
    const transport = rabbitmq({ url: 'amqp://guest:guest@127.0.0.1:1', connectAttempts: 1 });
    await assert.rejects(transport.connect(), { code: 'HERALD_TRANSPORT' });
    await assert.rejects(
      transport.publish([{ topic: 't', key: 'k', attributes: {}, data: new Uint8Array() }]),
      {
        code: 'HERALD_TRANSPORT',
      },
    );
    await transport.close();
    await assert.rejects(transport.connect(), { code: 'HERALD_CLOSED' });
  });

  it('refuses names that would not map onto queue names', () => {
    const transport = rabbitmq({ url });
    assertSubscribeRefused(
      transport,
      { group: 'a:b', topics: ['t'], concurrency: 1 },
      { group: 'g', topics: [], concurrency: 1 },
    );
  });
});
