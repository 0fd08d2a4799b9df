import { jetstream } from '@nats-io/jetstream';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { stampOfStructured, structuredEvent } from '../message.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { nowUs } from '../clock.ts';
import { natsConnection } from './jetstream-connection.ts';

/** Messages the pull consumer keeps buffered (`consume({ max_messages })`). */
export const JETSTREAM_PULL_BATCH = 1000;

const encoder = new TextEncoder();

async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const nc = await natsConnection();
  const js = jetstream(nc);
  const subject = spec.resources.subject!;
  return {
    // JetStream has no batch publish on this server: a batch is `n` publishes in flight, each awaiting its ack.
    async publishBatch(from, n) {
      const sentAt = nowUs();
      const acks = [];
      for (let seq = from; seq < from + n; seq++) {
        acks.push(js.publish(subject, encoder.encode(structuredEvent(seq, sentAt))));
      }
      await Promise.all(acks);
    },
    async publishOne(seq, sentAt) {
      await js.publish(subject, encoder.encode(structuredEvent(seq, sentAt)));
    },
    async close() {
      await nc.close();
    },
  };
}

/** A durable pull consumer (created by the setup, one per group) with an explicit ack per message. */
async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const nc = await natsConnection();
  const js = jetstream(nc);
  const source = await js.consumers.get(spec.resources.stream!, placement.group);
  const messages = await source.consume({ max_messages: JETSTREAM_PULL_BATCH });
  const done = (async () => {
    for await (const m of messages) {
      sink.accept(stampOfStructured(m.string()));
      m.ack();
    }
  })();
  return {
    async close() {
      await messages.close();
      await done;
      await nc.close();
    },
  };
}

export const jetstreamClient: PeerClient = { producer, consumer };
