import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { asyncApiDocument, defineEvent, ErrorCodes, HeraldError, payloadJsonSchema } from '../src/index.ts';

type Json = Record<string, unknown>;

/** A Standard Schema with the Standard JSON Schema interface, written by hand: core knows no schema library. */
function jsonSchemaOf(input: (target: string) => Json): StandardSchemaV1 & StandardJSONSchemaV1 {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value: unknown) => ({ value }),
      jsonSchema: { input: ({ target }) => input(target), output: ({ target }) => input(target) },
    },
  };
}

const ticketSchema = { type: 'object', properties: { ticketId: { type: 'string' } }, required: ['ticketId'] };
const TicketOpened = defineEvent({
  type: 'TicketOpened',
  topic: 'tickets',
  description: 'A customer opened a support ticket.',
  schema: jsonSchemaOf(() => ticketSchema),
  key: (data) => (data as { ticketId: string }).ticketId,
});

const options = { title: 'Support', version: '2.1.0' };
const orders = (document: Json): Json =>
  ((document.channels as Json).tickets as { messages: Json }).messages.TicketOpened as Json;

function expectUnsupported(run: () => unknown, type: string, why: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof HeraldError);
    assert.equal(error.code, ErrorCodes.UNSUPPORTED);
    assert.ok(error.message.includes(type), error.message);
    assert.match(error.message, why);
    return true;
  });
}

describe('asyncApiDocument', () => {
  it('asks the schema for draft-07 JSON Schema of its input and copies it into the message payload', () => {
    const targets: string[] = [];
    const definition = defineEvent({
      type: 'Pinged',
      topic: 'pings',
      schema: jsonSchemaOf((target) => (targets.push(target), { type: 'string' })),
    });
    const document = asyncApiDocument([definition], options);
    assert.deepEqual(targets, ['draft-07']);
    const message = ((document.channels as Json).pings as { messages: Json }).messages.Pinged as Json;
    assert.deepEqual(message.payload, {
      schemaFormat: 'application/schema+json;version=draft-07',
      schema: { type: 'string' },
    });
    // No key: no partition key header required, no Kafka key binding.
    assert.equal(message.bindings, undefined);
    assert.ok(!(message.headers as { required: string[] }).required.includes('ce_partitionkey'));
    assert.match(message.description as string, /No partition key/);
  });

  it('fails naming the event when a schema does not implement the Standard JSON Schema interface', () => {
    const definition = defineEvent({
      type: 'LegacyHappened',
      topic: 'legacy',
      schema: { '~standard': { version: 1, vendor: 'old-lib', validate: (value: unknown) => ({ value }) } },
    });
    expectUnsupported(
      () => asyncApiDocument([TicketOpened, definition], options),
      'LegacyHappened',
      /old-lib/,
    );
  });

  it('fails naming the event when the converter throws (a type JSON Schema cannot express)', () => {
    const definition = defineEvent({
      type: 'DateHappened',
      topic: 'dates',
      schema: jsonSchemaOf(() => {
        throw new Error('Date cannot be represented in JSON Schema');
      }),
    });
    expectUnsupported(() => payloadJsonSchema(definition), 'DateHappened', /Date cannot be represented/);
  });

  it('maps the CloudEvents attributes to the header names of the chosen binding', () => {
    const kafka = orders(asyncApiDocument([TicketOpened], options)).headers as {
      properties: Record<string, Json>;
      required: string[];
    };
    assert.deepEqual(kafka.required, [
      'ce_specversion',
      'ce_id',
      'ce_source',
      'ce_type',
      'ce_time',
      'content-type',
      'ce_subject',
      'ce_partitionkey',
      'ce_correlationid',
    ]);
    assert.equal(kafka.properties.ce_type!.const, 'TicketOpened');
    for (const name of ['ce_causationid', 'ce_traceparent', 'ce_tracestate', 'ce_dataschema']) {
      assert.ok(kafka.properties[name] && !kafka.required.includes(name), name);
    }
    const amqp = orders(asyncApiDocument([TicketOpened], { ...options, headers: 'amqp' })).headers as Json;
    assert.ok('cloudEvents_partitionkey' in (amqp.properties as Json));
    assert.ok(!('content-type' in (amqp.properties as Json)), 'AMQP carries the content type as a property');
    const nats = orders(asyncApiDocument([TicketOpened], { ...options, headers: 'nats' })).headers as Json;
    assert.ok('ce-datacontenttype' in (nats.properties as Json));
  });

  it('describes the partition key: the field a key function returns, or the function when it computes one', () => {
    const message = orders(asyncApiDocument([TicketOpened], options));
    assert.match(message.description as string, /^A customer opened a support ticket\.\n\n/);
    assert.match(message.description as string, /payload field `ticketId`/);
    assert.deepEqual(message['x-herald-partition-key'], { header: 'ce_partitionkey', field: 'ticketId' });
    assert.deepEqual((message.bindings as { kafka: Json }).kafka.key, {
      type: 'string',
      description: 'The partition key: `ticketId`.',
    });

    const composite = defineEvent({
      type: 'SeatBooked',
      topic: 'seats',
      schema: jsonSchemaOf(() => ({ type: 'object' })),
      key: (data) => {
        const seat = data as { row: string; seat: string };
        return `${seat.row}-${seat.seat}`;
      },
    });
    const seat = ((asyncApiDocument([composite], options).channels as Json).seats as { messages: Json })
      .messages.SeatBooked as Json;
    assert.deepEqual(seat['x-herald-partition-key'], { header: 'ce_partitionkey' });
    assert.match(seat.description as string, /the definition's `key` function/);
  });

  it('declares send operations, and receive operations only on request', () => {
    const sendOnly = asyncApiDocument([TicketOpened], options);
    assert.deepEqual(sendOnly.operations, {
      sendTicketOpened: {
        action: 'send',
        title: 'Publish TicketOpened',
        channel: { $ref: '#/channels/tickets' },
        messages: [{ $ref: '#/channels/tickets/messages/TicketOpened' }],
      },
    });
    const both = asyncApiDocument([TicketOpened], { ...options, receive: true });
    assert.equal((both.operations as Record<string, Json>)['receive-tickets']!.action, 'receive');
  });

  it('rejects bad options and two different definitions of one type with HERALD_CONFIG', () => {
    const config = (run: () => unknown, option: string): void =>
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof HeraldError && error.code === ErrorCodes.CONFIG);
        assert.ok(error.message.includes(`"${option}"`), error.message);
        return true;
      });
    config(() => asyncApiDocument([TicketOpened], { title: '', version: '1' }), 'title');
    config(() => asyncApiDocument([TicketOpened], { title: 'x', version: '' }), 'version');
    config(() => asyncApiDocument([], options), 'definitions');
    config(() => asyncApiDocument([TicketOpened], { ...options, headers: 'mqtt' as 'kafka' }), 'headers');
    config(
      () =>
        asyncApiDocument([TicketOpened], {
          ...options,
          servers: { 'a b': { host: 'h', protocol: 'kafka' } },
        }),
      'servers',
    );
    const twin = defineEvent({ ...TicketOpened, topic: 'other-tickets' });
    config(() => asyncApiDocument([TicketOpened, twin], options), 'definitions');
    // The same definition listed twice is one message.
    const once = asyncApiDocument([TicketOpened, TicketOpened], options);
    assert.deepEqual(Object.keys(once.operations as Json), ['sendTicketOpened']);
  });
});
