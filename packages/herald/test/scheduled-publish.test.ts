import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  assertSchedulable,
  createPublisher,
  DELIVER_AT_ATTRIBUTE,
  defineEvent,
  deliverAtOf,
  HeraldError,
  isScheduledLater,
  memory,
  recordDueAt,
  type PublishReceipt,
  type Transport,
  type TransportRecord,
} from '@herald/core';
import { uniqueName } from '@herald/core/testing';
import { assertRefusedOption } from './refused-option.ts';

// Issue 12 item 3, the publisher's side of scheduled delivery: the options, the `deliverat` attribute, and the
// refusal on a transport that would deliver a scheduled event at once. Holding records is the transports' and
// the outbox relays' (their own tests and the contract suite's scheduled-delivery case).

const Reminder = z.object({ orderId: z.string() });

/** A transport that records what it is asked to publish, declaring scheduled delivery or not. */
function recordingTransport(scheduledDelivery: boolean): Transport & { sent: TransportRecord[] } {
  const inner = memory();
  const sent: TransportRecord[] = [];
  return {
    ...inner,
    name: 'recording',
    capabilities: { ...inner.capabilities, scheduledDelivery },
    sent,
    publish(records): Promise<PublishReceipt[]> {
      sent.push(...records);
      return inner.publish(records);
    },
    subscribe: (options, onDelivery) => inner.subscribe(options, onDelivery),
    close: (options) => inner.close(options),
  };
}

describe('scheduled publish options', () => {
  it('turns deliverAt and delay into one RFC 3339 due time', () => {
    const at = new Date('2030-01-02T03:04:05.678Z');
    assert.equal(deliverAtOf({ deliverAt: at }), '2030-01-02T03:04:05.678Z');
    assert.equal(
      deliverAtOf({ delay: 1500 }, Date.parse('2030-01-01T00:00:00.000Z')),
      '2030-01-01T00:00:01.500Z',
    );
    assert.equal(deliverAtOf({ delay: 0 }, 0), '1970-01-01T00:00:00.000Z');
    assert.equal(deliverAtOf({}), undefined);
  });

  it('refuses both options at once, an invalid date and a bad delay, naming the option', () => {
    assertRefusedOption(() => deliverAtOf({ deliverAt: new Date(), delay: 5 }), 'deliverAt');
    assertRefusedOption(() => deliverAtOf({ deliverAt: new Date('not a date') }), 'deliverAt');
    assertRefusedOption(() => deliverAtOf({ deliverAt: '2030-01-01' as unknown as Date }), 'deliverAt');
    for (const delay of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      assertRefusedOption(() => deliverAtOf({ delay }), 'delay');
    }
  });

  it('reads a record’s due time, treating a missing or malformed one as due now', () => {
    const record = (attributes: Record<string, string>): TransportRecord => ({
      topic: 't',
      key: undefined,
      attributes,
      data: new Uint8Array(),
    });
    const now = Date.parse('2030-01-01T00:00:00.000Z');
    assert.equal(recordDueAt(record({ [DELIVER_AT_ATTRIBUTE]: '2030-01-01T00:00:01.000Z' })), now + 1000);
    assert.equal(recordDueAt(record({})), undefined);
    assert.equal(recordDueAt(record({ [DELIVER_AT_ATTRIBUTE]: 'soon' })), undefined);
    assert.equal(isScheduledLater(record({ [DELIVER_AT_ATTRIBUTE]: '2030-01-01T00:00:01.000Z' }), now), true);
    assert.equal(
      isScheduledLater(record({ [DELIVER_AT_ATTRIBUTE]: '2029-12-31T23:59:59.000Z' }), now),
      false,
    );
    assert.equal(isScheduledLater(record({ [DELIVER_AT_ATTRIBUTE]: 'soon' }), now), false);
  });
});

describe('publishing a scheduled event', () => {
  const definition = (topic: string) =>
    defineEvent({ type: 'PaymentReminderDue', topic, schema: Reminder, key: (d) => d.orderId });

  it('carries the due time in the deliverat attribute, computed once at publish', async () => {
    const transport = recordingTransport(true);
    const publisher = createPublisher({ transport, source: '/test' });
    const before = Date.now();
    const event = await publisher.publish(
      definition(uniqueName('sched')),
      { orderId: 'o1' },
      { delay: 60_000 },
    );
    const after = Date.now();
    const due = Date.parse(event.extensions![DELIVER_AT_ATTRIBUTE]!);
    assert.ok(due >= before + 60_000 && due <= after + 60_000, `due ${due} within the publish call + 60 s`);
    assert.equal(transport.sent.length, 1);
    assert.equal(
      transport.sent[0]!.attributes[DELIVER_AT_ATTRIBUTE],
      event.extensions![DELIVER_AT_ATTRIBUTE],
    );
    await transport.close();
  });

  it('refuses an event due later on a transport without scheduled delivery, sending nothing', async () => {
    const transport = recordingTransport(false);
    const publisher = createPublisher({ transport, source: '/test' });
    await assert.rejects(
      publisher.publish(definition(uniqueName('sched')), { orderId: 'o1' }, { delay: 5_000 }),
      (error: unknown) => {
        assert.ok(error instanceof HeraldError);
        assert.equal(error.code, 'HERALD_UNSUPPORTED');
        assert.equal(error.permanent, true);
        assert.match(error.message, /recording transport has no scheduled delivery/);
        assert.match(error.message, /outbox/);
        return true;
      },
    );
    assert.equal(transport.sent.length, 0, 'nothing sent');
    await transport.close();
  });

  it('publishes an event whose due time has passed on any transport, at once', async () => {
    const transport = recordingTransport(false);
    const publisher = createPublisher({ transport, source: '/test' });
    const past = new Date(Date.now() - 1000);
    const event = await publisher.publish(
      definition(uniqueName('sched')),
      { orderId: 'o1' },
      { deliverAt: past },
    );
    assert.equal(event.extensions![DELIVER_AT_ATTRIBUTE], past.toISOString());
    assert.equal(transport.sent.length, 1);
    await transport.close();
  });

  it('assertSchedulable refuses records due later on such a transport, and passes due ones', async () => {
    const transport = recordingTransport(false);
    const record = (deliverat: string): TransportRecord => ({
      topic: 't',
      key: 'k',
      attributes: { id: '1', [DELIVER_AT_ATTRIBUTE]: deliverat },
      data: new Uint8Array(),
    });
    assert.throws(() => assertSchedulable(transport, [record(new Date(Date.now() + 60_000).toISOString())]), {
      code: 'HERALD_UNSUPPORTED',
    });
    assertSchedulable(transport, [record(new Date(Date.now() - 1).toISOString())]);
    assertSchedulable(recordingTransport(true), [record(new Date(Date.now() + 60_000).toISOString())]);
    await transport.close();
  });
});
