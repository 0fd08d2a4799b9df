import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import {
  DiagnosticSeverity,
  Parser,
  type AsyncAPIDocumentInterface,
  type Diagnostic,
} from '@asyncapi/parser';
import { asyncApiDocument, type AsyncApiDocument, type EventDefinition } from '@herald/core';
import * as contracts from '../src/contracts/index.ts';
import { REPO_ROOT } from '../src/runtime/config.ts';

/** Every event definition the shop's contracts export. */
const definitions: EventDefinition[] = (Object.values(contracts) as unknown[]).filter(
  (value): value is EventDefinition =>
    typeof value === 'object' && value !== null && 'topic' in value && 'type' in value && 'schema' in value,
);

// The parser's enum and its diagnostics' severity come from two copies of @stoplight/types: compare numbers.
const ERROR: number = DiagnosticSeverity.Error;
const errors = (diagnostics: Diagnostic[]): Diagnostic[] =>
  diagnostics.filter((d) => (d.severity as number) === ERROR);

describe('AsyncAPI document of the shop', () => {
  const parser = new Parser();
  let generated: AsyncApiDocument;
  let parsed: AsyncAPIDocumentInterface;

  before(async () => {
    generated = asyncApiDocument(definitions, {
      title: 'Shop',
      version: '1.0.0',
      description: 'The reference system',
      servers: { local: { host: '127.0.0.1:19092', protocol: 'kafka' } },
      receive: true,
    });
    // What `herald asyncapi` prints for the shop is that same document, and it is what the parser checks.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(REPO_ROOT, 'packages/cli/bin/herald.mjs'),
        'asyncapi',
        '--contracts',
        join(REPO_ROOT, 'shop/src/contracts/index.ts'),
        '--title',
        'Shop',
        '--version',
        '1.0.0',
        '--description',
        'The reference system',
        '--receive',
      ],
      { cwd: REPO_ROOT },
    );
    const printed = JSON.parse(stdout) as AsyncApiDocument;
    const { servers: _servers, ...withoutServers } = generated as AsyncApiDocument & { servers?: unknown };
    assert.deepEqual(printed, withoutServers, 'herald asyncapi prints the generated document');
    const { document, diagnostics } = await parser.parse(stdout);
    assert.deepEqual(
      errors(diagnostics).map((d) => `${d.path.join('.')}: ${d.message}`),
      [],
      'no error diagnostics',
    );
    assert.ok(document, 'the parser returns a document');
    parsed = document;
  });

  it('the parser reports errors for a broken document (the check above can fail)', async () => {
    const broken = structuredClone(generated) as Record<string, Record<string, Record<string, unknown>>>;
    broken.operations!.sendOrderPlaced!.action = 'publish'; // AsyncAPI 2 vocabulary, invalid in 3.0
    const { diagnostics } = await parser.parse(JSON.stringify(broken));
    assert.ok(errors(diagnostics).length > 0);
  });

  it('has one channel per topic, addressed by the topic, with one message per event type', () => {
    const expected: Record<string, string[]> = {
      orders: ['OrderCancelled', 'OrderConfirmed', 'OrderPlaced'],
      payments: ['PaymentCompleted', 'PaymentFailed', 'PaymentRefunded'],
      inventory: ['StockReleased', 'StockReserved', 'StockUnavailable'],
      notifications: ['NotificationSent'],
      'order-deadlines': ['PaymentDeadlineReached'],
    };
    assert.deepEqual(
      parsed
        .channels()
        .all()
        .map((c) => c.id())
        .sort(),
      Object.keys(expected).sort(),
    );
    for (const [topic, types] of Object.entries(expected)) {
      const channel = parsed.channels().get(topic)!;
      assert.equal(channel.address(), topic);
      assert.deepEqual(
        channel
          .messages()
          .all()
          .map((m) => m.id())
          .sort(),
        types,
      );
    }
  });

  it('describes each message: name, content type, payload fields, CloudEvents headers, partition key', () => {
    const placed = parsed.channels().get('orders')!.messages().get('OrderPlaced')!;
    assert.equal(placed.name(), 'OrderPlaced');
    assert.equal(placed.contentType(), 'application/json');
    // OrderPlaced accepts Herald's shape or the plain shape of outside clients: a union of two objects.
    const shapes = placed.payload()!.anyOf()!;
    assert.equal(shapes.length, 2);
    assert.deepEqual(Object.keys(shapes[0]!.properties()!).sort(), [
      'amountCents',
      'items',
      'orderId',
      'userId',
    ]);
    assert.deepEqual(shapes[1]!.required(), ['orderId', 'userId', 'amount']);

    const cancelled = parsed.channels().get('orders')!.messages().get('OrderCancelled')!;
    const payload = cancelled.payload()!;
    assert.equal(payload.type(), 'object');
    assert.deepEqual(payload.required(), ['orderId', 'userId', 'amountCents', 'reason']);
    assert.equal(payload.properties()!.amountCents!.type(), 'integer');

    const headers = cancelled.headers()!;
    for (const name of ['ce_id', 'ce_source', 'ce_type', 'ce_specversion', 'ce_time', 'ce_partitionkey']) {
      assert.ok(headers.required()!.includes(name), name);
    }
    for (const name of ['ce_traceparent', 'ce_correlationid', 'ce_causationid', 'content-type']) {
      assert.ok(headers.properties()![name], name);
    }
    assert.equal(headers.properties()!.ce_type!.const(), 'OrderCancelled');

    assert.match(cancelled.description()!, /payload field `orderId`/);
    assert.deepEqual(cancelled.extensions().get('x-herald-partition-key')!.value(), {
      header: 'ce_partitionkey',
      field: 'orderId',
    });
    assert.equal(cancelled.bindings().get('kafka')!.value<{ key: { type: string } }>().key.type, 'string');
  });

  it('has a send operation per message and, on request, a receive operation per channel', () => {
    const send = parsed.operations().filterBySend();
    assert.equal(send.length, definitions.length);
    const placed = parsed.operations().get('sendOrderPlaced')!;
    assert.equal(placed.channels().all()[0]!.address(), 'orders');
    assert.deepEqual(
      placed
        .messages()
        .all()
        .map((m) => m.id()),
      ['OrderPlaced'],
    );
    assert.deepEqual(
      parsed
        .operations()
        .filterByReceive()
        .map((o) => o.id())
        .sort(),
      [
        'receive-inventory',
        'receive-notifications',
        'receive-order-deadlines',
        'receive-orders',
        'receive-payments',
      ],
    );
  });
});
