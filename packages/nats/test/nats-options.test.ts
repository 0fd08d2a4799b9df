import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertSubscribeRefused } from '@herald/core/testing';
import { nats, resolveNatsOptions } from '../src/index.ts';

describe('nats() options', () => {
  it('applies the defaults', () => {
    const options = resolveNatsOptions({ servers: 'nats://127.0.0.1:4222' });
    assert.deepEqual(options.servers, ['nats://127.0.0.1:4222']);
    assert.equal(options.prefix, 'herald');
    assert.equal(options.partitions, 8);
    assert.equal(options.ackWaitMs, 30_000);
    assert.equal(options.sessionTimeoutMs, 10_000);
    assert.equal(options.fetchExpiresMs, 30_000);
    assert.equal(options.deduplicate, true);
    assert.deepEqual(resolveNatsOptions({ servers: 'a:1, b:2' }).servers, ['a:1', 'b:2']);
  });

  it('shows refused server URLs with their passwords masked', () => {
    for (const servers of [
      'nats://app:secretpw@n1:4222/path',
      ['n1:4222', 'nats://app:secretpw@n2:4222 x'],
    ]) {
      assert.throws(
        () => nats({ servers }),
        (error: { code?: string; message: string; details?: unknown }) => {
          assert.equal(error.code, 'HERALD_CONFIG');
          assert.match(error.message, /app:\*\*\*@n/);
          assert.doesNotMatch(`${error.message} ${JSON.stringify(error.details)}`, /secretpw/);
          return true;
        },
      );
    }
  });

  it('rejects bad options at start-up, naming the option and what it accepts', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'servers'],
      [{ servers: [] }, 'servers'],
      [{ servers: 'http://x y' }, 'servers'],
      [{ servers: 'a:1', prefix: 'has.dot' }, 'prefix'],
      [{ servers: 'a:1', partitions: 0 }, 'partitions'],
      [{ servers: 'a:1', partitions: 1.5 }, 'partitions'],
      [{ servers: 'a:1', ackWaitMs: 10 }, 'ackWaitMs'],
      [{ servers: 'a:1', sessionTimeoutMs: 'soon' }, 'sessionTimeoutMs'],
      [{ servers: 'a:1', fetchExpiresMs: 500 }, 'fetchExpiresMs'],
      [{ servers: 'a:1', replicas: 7 }, 'replicas'],
      [{ servers: 'a:1', deduplicate: 'yes' }, 'deduplicate'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => nats(options),
        (error: { code?: string; details?: { option?: string }; message: string }) => {
          assert.equal(error.code, 'HERALD_CONFIG');
          assert.equal(error.details?.option, option);
          assert.match(error.message, new RegExp(`"${option}"`));
          return true;
        },
        JSON.stringify(options),
      );
    }
  });

  it('declares its capabilities', () => {
    const transport = nats({ servers: '127.0.0.1:1' });
    assert.equal(transport.name, 'nats');
    assert.deepEqual(transport.capabilities, {
      persistent: true,
      crossProcess: true,
      orderedPerKey: true,
      delayedDelivery: true,
      orderedRedelivery: true,
      deadLetterQueue: true,
      replay: true,
      longHandlers: true,
      scheduledDelivery: false,
    });
    return transport.close();
  });

  it('fails publish and subscribe with HERALD_TRANSPORT when the server cannot be reached', async () => {
    const transport = nats({ servers: '127.0.0.1:1' });
    const record = {
      topic: 'orders',
      key: 'k',
      attributes: { id: '1', source: '/s', type: 'T' },
      data: new Uint8Array(),
    };
    await assert.rejects(transport.publish([record]), { code: 'HERALD_TRANSPORT' });
    const subscription = transport.subscribe(
      { group: 'g', topics: ['orders'], concurrency: 1 },
      async () => {},
    );
    await assert.rejects(subscription.ready, { code: 'HERALD_TRANSPORT' });
    await subscription.close();
    await transport.close();
    await assert.rejects(transport.publish([record]), { code: 'HERALD_CLOSED' });
  });

  it('checks topic and group names', async () => {
    const transport = nats({ servers: '127.0.0.1:1' });
    const record = { topic: 'bad topic', key: 'k', attributes: {}, data: new Uint8Array() };
    await assert.rejects(transport.publish([record]), { code: 'HERALD_CONFIG' });
    assertSubscribeRefused(
      transport,
      { group: 'g', topics: ['a..b'], concurrency: 1 },
      { group: '', topics: ['a'], concurrency: 1 },
    );
    await transport.close();
  });
});
