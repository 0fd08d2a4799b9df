import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublisher, createRouter, memory, type Transport } from '@herald/core';
import { canTapFromBeginning, tapStream, TAP_GROUP_PREFIX, type TapEvent } from '../src/tap.ts';
import { formatJsonLine, formatPrettyLine, SHORT_DATA_LENGTH } from '../src/tail-format.ts';
import { waitFor } from './capture-io.ts';
import { Charged } from './fixtures/contracts.ts';

async function withMemory(body: (transport: Transport) => Promise<void> | void): Promise<void> {
  const transport = memory();
  try {
    await body(transport);
  } finally {
    await transport.close();
  }
}

describe('tapStream', () => {
  it('sees what is published after it is ready, filtered by type and key, and takes nothing from a service group', async () => {
    await withMemory(async (transport) => {
      const billed: string[] = [];
      const router = createRouter({ transport, group: 'billing', source: '/test' });
      router.on(Charged, (event) => {
        billed.push(event.data.orderId);
      });
      await router.start();
      const publisher = createPublisher({ transport, source: '/test' });
      await publisher.publish(Charged, { orderId: 'before', cents: 1 });
      const seen: TapEvent[] = [];
      const tap = tapStream(
        transport,
        { topics: ['charges'], types: [Charged.type], keys: ['a', 'c'] },
        (e) => {
          seen.push(e);
        },
      );
      assert.ok(tap.group.startsWith(TAP_GROUP_PREFIX));
      await tap.ready;
      for (const orderId of ['a', 'b', 'c']) await publisher.publish(Charged, { orderId, cents: 2 });
      await transport.publish([
        {
          topic: 'charges',
          key: 'a',
          attributes: { id: 'x1', source: '/t', type: 'Other' },
          data: new Uint8Array(),
        },
      ]);
      await waitFor(() => billed.length === 4, 'the service group to get every Charged event');
      await waitFor(() => seen.length === 2, 'the tap to see a and c');
      await tap.close();
      await router.close();
      assert.deepEqual(
        seen.map((e) => e.key),
        ['a', 'c'],
      );
      assert.deepEqual(billed.sort(), ['a', 'b', 'before', 'c']);
      const [first] = seen;
      assert.equal(first!.topic, 'charges');
      assert.deepEqual(first!.event?.data, { orderId: 'a', cents: 2 });
      assert.equal(first!.attributes.type, Charged.type);
    });
  });

  it('reads from the beginning when asked, and two taps do not share events', async () => {
    await withMemory(async (transport) => {
      const publisher = createPublisher({ transport, source: '/test' });
      await publisher.publish(Charged, { orderId: 'old', cents: 1 });
      const a: string[] = [];
      const b: string[] = [];
      const tapA = tapStream(transport, { topics: ['charges'], fromBeginning: true }, (e) => {
        a.push(e.key ?? '');
      });
      const tapB = tapStream(transport, { topics: ['charges'], fromBeginning: true }, (e) => {
        b.push(e.key ?? '');
      });
      assert.notEqual(tapA.group, tapB.group);
      await Promise.all([tapA.ready, tapB.ready]);
      await publisher.publish(Charged, { orderId: 'new', cents: 1 });
      await waitFor(() => a.length === 2 && b.length === 2, 'both taps to see both events');
      await Promise.all([tapA.close(), tapB.close()]);
      // Two keys, so two partitions: each tap sees both events, in no order across keys.
      assert.deepEqual(a.toSorted(), ['new', 'old']);
      assert.deepEqual(b.toSorted(), ['new', 'old']);
    });
  });

  it('refuses --from-beginning where a new group cannot read the past, and bad names', async () => {
    await withMemory((transport) => {
      const rabbitLike: Transport = { ...transport, name: 'rabbitmq' };
      assert.equal(canTapFromBeginning(rabbitLike), false);
      assert.throws(
        () => tapStream(rabbitLike, { topics: ['charges'], fromBeginning: true }, () => undefined),
        { code: 'HERALD_UNSUPPORTED' },
      );
      assert.throws(() => tapStream(transport, { topics: [] }, () => undefined), { code: 'HERALD_CONFIG' });
      assert.throws(() => tapStream(transport, { topics: ['bad topic'] }, () => undefined), {
        code: 'HERALD_CONFIG',
      });
    });
  });

  it('keeps going when its consumer throws, and reports the error', async () => {
    await withMemory(async (transport) => {
      const errors: unknown[] = [];
      const seen: string[] = [];
      const tap = tapStream(
        transport,
        { topics: ['charges'], onError: (error) => errors.push(error) },
        (e) => {
          if (e.key === 'boom') throw new Error('printer broke');
          seen.push(e.key ?? '');
        },
      );
      await tap.ready;
      const publisher = createPublisher({ transport, source: '/test' });
      await publisher.publish(Charged, { orderId: 'boom', cents: 1 });
      await publisher.publish(Charged, { orderId: 'after', cents: 1 });
      await waitFor(() => seen.length === 1, 'the event after the failure');
      await tap.close();
      assert.deepEqual(seen, ['after']);
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]), /printer broke/);
    });
  });
});

describe('tail formatting', () => {
  const tapped = (data: unknown, attributes: Record<string, string> = {}): TapEvent => ({
    topic: 'charges',
    partition: 3,
    offset: '17',
    key: 'o-1',
    attributes: {
      id: 'e-1',
      source: '/s',
      type: 'Charged',
      time: '2026-12-03T10:00:00.000Z',
      ...attributes,
    },
    event: {
      specversion: '1.0',
      id: 'e-1',
      source: '/s',
      type: 'Charged',
      time: '2026-12-03T10:00:00.000Z',
      datacontenttype: 'application/json',
      data,
    },
    receivedAt: '2026-12-03T10:00:01.000Z',
  });

  it('prints one pretty line with time, topic[partition]@offset, type, key, id and short data', () => {
    assert.equal(
      formatPrettyLine(tapped({ orderId: 'o-1' })),
      '2026-12-03T10:00:00.000Z  charges[3]@17  Charged  key=o-1  id=e-1  {"orderId":"o-1"}',
    );
    const long = formatPrettyLine(tapped({ text: 'x'.repeat(500) }));
    assert.ok(long.endsWith('…'));
    assert.equal(long.split('  ').at(-1)!.length, SHORT_DATA_LENGTH);
  });

  it('prints one JSON object per line that round-trips, binary data as base64, undecodable records with the reason', () => {
    const line = formatJsonLine(tapped({ orderId: 'o-1', cents: 5 }));
    assert.ok(!line.includes('\n'));
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal(parsed.topic, 'charges');
    assert.equal(parsed.partition, 3);
    assert.equal(parsed.offset, '17');
    assert.equal(parsed.key, 'o-1');
    assert.equal(parsed.id, 'e-1');
    assert.equal(parsed.type, 'Charged');
    assert.deepEqual(parsed.data, { orderId: 'o-1', cents: 5 });

    const binary = tapped(new Uint8Array([1, 2, 3]));
    assert.equal((JSON.parse(formatJsonLine(binary)) as { dataBase64: string }).dataBase64, 'AQID');

    const broken: TapEvent = {
      ...tapped(null),
      event: undefined,
      decodeError: { name: 'HeraldError', code: 'HERALD_DECODE', message: 'not JSON' },
    };
    delete (broken as { event?: unknown }).event;
    assert.match(formatPrettyLine(broken), /\(not a CloudEvent: not JSON\)$/);
    assert.equal(
      (JSON.parse(formatJsonLine(broken)) as { decodeError: { code: string } }).decodeError.code,
      'HERALD_DECODE',
    );
  });
});
