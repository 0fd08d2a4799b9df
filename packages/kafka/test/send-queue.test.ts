import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Producer } from '@platformatic/kafka';
import { SendQueue, type OutgoingRecord } from '../src/send-queue.ts';

interface SentMessage {
  topic: string;
  partition: number;
}

/** A stand-in producer: a log per partition, one request at a time checked, failures on demand. */
class FakeProducer {
  readonly requests: SentMessage[][] = [];
  readonly logs = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  failNext = false;
  closed = false;

  async send(options: {
    messages: SentMessage[];
  }): Promise<{ offsets: { topic: string; partition: number; offset: bigint }[] }> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.inFlight--;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('broker went away');
    }
    this.requests.push(options.messages);
    const bases = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const m of options.messages) {
      const key = `${m.topic}/${m.partition}`;
      const next = this.logs.get(key) ?? 0;
      if (!bases.has(key)) bases.set(key, { topic: m.topic, partition: m.partition, offset: BigInt(next) });
      this.logs.set(key, next + 1);
    }
    return { offsets: [...bases.values()] };
  }

  close(_force: boolean, callback: (error?: Error | null) => void): void {
    this.closed = true;
    callback(null);
  }
}

const record = (topic: string, partition: number, size = 10): OutgoingRecord => ({
  topic,
  partition,
  key: undefined,
  value: Buffer.alloc(size),
  headers: new Map(),
});

/** A send queue on fake producers, with every producer it has made so far (a failed one is replaced). */
function fakeQueue(maxBatchBytes = 1_000_000): { producers: FakeProducer[]; queue: SendQueue } {
  const producers: FakeProducer[] = [];
  const queue = new SendQueue(() => {
    const p = new FakeProducer();
    producers.push(p);
    return p as unknown as Producer;
  }, maxBatchBytes);
  return { producers, queue };
}

describe('SendQueue', () => {
  it('keeps one request in flight and coalesces concurrent callers into it', async () => {
    const { producers, queue } = fakeQueue();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => queue.send([record('t', i % 2), record('t', i % 2)])),
    );
    const producer = producers[0]!;
    assert.equal(producer.maxInFlight, 1);
    assert.ok(producer.requests.length < 20, `coalesced into ${producer.requests.length} requests`);
    const all = results.flat().map(String);
    assert.equal(new Set(all).size, 20, 'offsets are distinct per partition');
    for (const offsets of results)
      assert.equal(offsets[1]! - offsets[0]!, 1n, "a caller's records stay adjacent");
    await queue.close();
    assert.ok(producer.closed);
    await assert.rejects(() => queue.send([record('t', 0)]), { code: 'HERALD_CLOSED' });
  });

  it('caps a request by bytes', async () => {
    let producer: FakeProducer | undefined;
    const queue = new SendQueue(() => (producer = new FakeProducer()) as unknown as Producer, 2048);
    await Promise.all(Array.from({ length: 10 }, () => queue.send([record('t', 0, 900)])));
    assert.ok(
      producer!.requests.every((r) => r.length <= 2),
      `requests: ${producer!.requests.map((r) => r.length).join(',')}`,
    );
    await queue.close();
  });

  it('rejects a failed request with HERALD_TRANSPORT and replaces the producer', async () => {
    const { producers, queue } = fakeQueue();
    await queue.send([record('t', 0)]);
    producers[0]!.failNext = true;
    await assert.rejects(() => queue.send([record('t', 0)]), { code: 'HERALD_TRANSPORT' });
    assert.ok(producers[0]!.closed);
    assert.deepEqual(await queue.send([record('t', 0)]), [0n], 'a new producer takes over');
    assert.equal(producers.length, 2);
    await queue.close();
  });
});
