/**
 * Interop with clients that know nothing of Herald, on each broker. A plain client (the raw `@platformatic/kafka`,
 * `amqplib` or NATS client) publishes the seed's JSON on topic `orders`:
 *
 *     {"event": "OrderPlaced", "data": {"orderId": "…", "userId": "456", "amount": 100}}
 *
 * and the payment service (a separate process, started with `HERALD_ACCEPT_PLAIN_JSON=1`, so its router reads
 * plain JSON through `plainJsonCodec()`) charges it: 100.00 becomes 10000 cents in its ledger. Then a plain client reads the `PaymentCompleted` Herald published:
 * CloudEvents binary mode, the attributes as headers and the data as the JSON body.
 *
 * These runs use the contracts' own topic and group names (`orders`, `payment-service`), as an outside client
 * would; each run uses a new order id and a new payment database, so events of earlier runs change nothing here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Consumer, ProduceAcks, Producer } from '@platformatic/kafka';
import { jetstream } from '@nats-io/jetstream';
import { connect as natsConnect, type Msg } from '@nats-io/transport-node';
import amqp from 'amqplib';
import {
  KAFKA_BROKERS,
  kafkaEngine,
  NATS_URL,
  natsEngine,
  RABBITMQ_URL,
  rabbitmqEngine,
  type Engine,
} from './e2e/engines.ts';
import { newShop, skipReason } from './e2e/shop-scenario.ts';
import type { Shop } from './e2e/shop-harness.ts';

const TIMEOUT_MS = 30_000;

/** A Herald event as a plain client sees it: its CloudEvents attributes (from headers) and its JSON body. */
interface PlainEvent {
  readonly attributes: Record<string, string>;
  readonly data: { orderId?: string; paymentId?: string; amountCents?: number };
}

/** The seed's shape, for a fresh order id. */
function seedOrder(): { orderId: string; body: string } {
  const orderId = `plain-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return {
    orderId,
    body: JSON.stringify({ event: 'OrderPlaced', data: { orderId, userId: '456', amount: 100 } }),
  };
}

/** Resolves once the payment service's own database holds the charge for `orderId`. */
async function charged(shop: Shop, orderId: string): Promise<{ kind: string; amount_cents: number }[]> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const rows = await shop.reader
      .all<{ order_id: string; kind: string; amount_cents: number }>(
        'payment',
        'SELECT order_id, kind, amount_cents FROM ledger',
      )
      .catch(() => []);
    const mine = rows.filter((row) => row.order_id === orderId);
    if (mine.length > 0) return mine.map(({ kind, amount_cents }) => ({ kind, amount_cents }));
    if (Date.now() > deadline) assert.fail(`the payment service did not charge ${orderId}\n${shop.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What every engine must show: charged once at 100.00, and a readable CloudEvent announcing it. */
function assertPaymentCompleted(event: PlainEvent, orderId: string): void {
  assert.equal(event.attributes.specversion, '1.0');
  assert.equal(event.attributes.type, 'PaymentCompleted');
  assert.equal(event.attributes.source, '/shop/payment-service');
  assert.match(event.attributes.id ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(event.attributes.partitionkey, orderId);
  assert.ok(event.attributes.causationid, 'caused by the plain order');
  assert.equal(event.data.orderId, orderId);
  assert.equal(event.data.amountCents, 10_000);
}

/** Starts the payment service alone on `engine` with the contracts' own names. */
async function paymentAlone(engine: Engine, brokerUrl: string): Promise<{ shop: Shop; url: string }> {
  // Plain JSON is an opt-in (off, the plain order is dead-lettered: plain-json-interop.test.ts).
  const shop = await newShop({ engine, topicPrefix: '', brokerUrl, env: { HERALD_ACCEPT_PLAIN_JSON: '1' } });
  return { shop, url: await shop.start('payment-service') };
}

/** Resolves once the payment service's outbox is empty: what it emitted is on the broker. */
async function published(url: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const health = (await (await fetch(`${url}/health`)).json()) as { outbox: { pending: number } };
    if (health.outbox.pending === 0) return;
    if (Date.now() > deadline) assert.fail('the payment service did not relay its outbox');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopCleanly(shop: Shop): Promise<void> {
  assert.deepEqual(await shop.stopAll(), [0], `the payment service stops cleanly\n${shop.tail()}`);
}

function until<T>(what: string, found: () => T | undefined): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const value = found();
      if (value !== undefined) resolve(value);
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

describe('interop with plain clients', { timeout: 90_000 }, async () => {
  const kafkaSkip = await skipReason({ engine: kafkaEngine });
  it(
    'Kafka: a raw @platformatic/kafka producer places an order, a raw consumer reads the payment',
    {
      ...(kafkaSkip === undefined ? {} : { skip: kafkaSkip }),
    },
    async () => {
      const { shop, url } = await paymentAlone(kafkaEngine, kafkaEngine.brokerUrl(''));
      const { orderId, body } = seedOrder();
      // One send at a time: @platformatic/kafka 1.x numbers concurrent idempotent sends alike (platformatic/kafka#326).
      const producer = new Producer({
        clientId: 'plain-client',
        bootstrapBrokers: KAFKA_BROKERS,
        acks: ProduceAcks.ALL,
      });
      try {
        await producer.send({
          messages: [{ topic: 'orders', key: Buffer.from(orderId), value: Buffer.from(body) }],
        });
      } finally {
        await producer.close();
      }
      assert.deepEqual(await charged(shop, orderId), [{ kind: 'charge', amount_cents: 10_000 }]);
      await published(url);

      // The topic exists now (the payment service made it, not an auto-creating read); a new group reads it from
      // the start and finds our payment among earlier runs'.
      const consumer = new Consumer({
        clientId: 'plain-client',
        groupId: `plain-reader-${randomBytes(4).toString('hex')}`,
        bootstrapBrokers: KAFKA_BROKERS,
      });
      let event: PlainEvent | undefined;
      const stream = await consumer.consume({ topics: ['payments'], mode: 'earliest', autocommit: true });
      const timer = setTimeout(() => void stream.close(), TIMEOUT_MS);
      try {
        for await (const message of stream) {
          const headers = Object.fromEntries(
            [...message.headers].map(([k, v]) => [k.toString(), v.toString()]),
          );
          const attributes = Object.fromEntries(
            Object.entries(headers)
              .filter(([name]) => name.startsWith('ce_'))
              .map(([name, value]) => [name.slice(3), value]),
          );
          const data = JSON.parse(message.value.toString()) as PlainEvent['data'];
          if (attributes.type === 'PaymentCompleted' && data.orderId === orderId) {
            assert.equal(headers['content-type'], 'application/json');
            assert.equal(message.key.toString(), orderId, 'the partition key is the record key');
            event = { attributes, data };
            break;
          }
        }
      } finally {
        clearTimeout(timer);
        await stream.close();
        await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
      }
      assert.ok(event, `no PaymentCompleted for ${orderId} on "payments"`);
      assertPaymentCompleted(event, orderId);
      await stopCleanly(shop);
    },
  );

  const rabbitSkip = await skipReason({ engine: rabbitmqEngine });
  it(
    'RabbitMQ: a plain amqplib client places an order and reads the payment',
    {
      ...(rabbitSkip === undefined ? {} : { skip: rabbitSkip }),
    },
    async () => {
      // The default partition count: the `orders` and `payments` exchanges are shared with other runs.
      const { shop } = await paymentAlone(rabbitmqEngine, RABBITMQ_URL);
      const { orderId, body } = seedOrder();
      const connection = await amqp.connect(RABBITMQ_URL);
      try {
        // Reading: the topic's exchange, bound once per partition number (docs/transports/rabbitmq.md).
        const channel = await connection.createChannel();
        await channel.assertExchange('payments', 'direct', {
          durable: true,
          alternateExchange: 'payments:unrouted:8',
        });
        const { queue } = await channel.assertQueue('', { exclusive: true });
        for (let partition = 0; partition < 8; partition++)
          await channel.bindQueue(queue, 'payments', String(partition));
        const received: PlainEvent[] = [];
        await channel.consume(
          queue,
          (message) => {
            if (message === null) return;
            const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
            const attributes = Object.fromEntries(
              Object.entries(headers)
                .filter(([name]) => name.startsWith('cloudEvents_'))
                .map(([name, value]) => [name.slice('cloudEvents_'.length), String(value)]),
            );
            assert.equal(message.properties.contentType, 'application/json');
            received.push({ attributes, data: JSON.parse(message.content.toString()) as PlainEvent['data'] });
          },
          { noAck: true },
        );

        // Publishing: any routing key that is not a partition number reaches partition 0 of every group.
        const confirms = await connection.createConfirmChannel();
        confirms.publish('orders', 'plain-client', Buffer.from(body), {
          contentType: 'application/json',
          persistent: true,
        });
        await confirms.waitForConfirms();
        await confirms.close();

        assert.deepEqual(await charged(shop, orderId), [{ kind: 'charge', amount_cents: 10_000 }]);
        const event = await until('PaymentCompleted on "payments"', () =>
          received.find((e) => e.attributes.type === 'PaymentCompleted' && e.data.orderId === orderId),
        );
        assertPaymentCompleted(event, orderId);
        await channel.close();
      } finally {
        await connection.close();
      }
      await stopCleanly(shop);
    },
  );

  const natsSkip = await skipReason({ engine: natsEngine });
  it(
    'NATS: a plain NATS client places an order and reads the payment',
    {
      ...(natsSkip === undefined ? {} : { skip: natsSkip }),
    },
    async () => {
      const { shop } = await paymentAlone(natsEngine, natsEngine.brokerUrl(''));
      const { orderId, body } = seedOrder();
      const nc = await natsConnect({ servers: NATS_URL });
      try {
        // Reading: a core subscription to the topic's partition subjects.
        const received: PlainEvent[] = [];
        nc.subscribe('payments.*', {
          callback: (error: Error | null, message: Msg) => {
            if (error !== null) return;
            const attributes: Record<string, string> = {};
            for (const [name, values] of message.headers ?? []) {
              if (name.toLowerCase().startsWith('ce-'))
                attributes[name.slice(3).toLowerCase()] = values[0] ?? '';
            }
            received.push({ attributes, data: message.json() });
          },
        });
        await nc.flush();
        // Publishing: any partition subject of the topic's stream.
        await jetstream(nc).publish('orders.0', body);

        assert.deepEqual(await charged(shop, orderId), [{ kind: 'charge', amount_cents: 10_000 }]);
        const event = await until('PaymentCompleted on "payments.*"', () =>
          received.find((e) => e.attributes.type === 'PaymentCompleted' && e.data.orderId === orderId),
        );
        assertPaymentCompleted(event, orderId);
      } finally {
        await nc.close();
      }
      await stopCleanly(shop);
    },
  );
});
