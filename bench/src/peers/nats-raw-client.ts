import { jetstream } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { eventAttributes } from '../message.ts';
import { paddedData, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { JETSTREAM_PULL_BATCH } from './jetstream-client.ts';
import { natsConnection } from './jetstream-connection.ts';

/** The NATS binding's binary mode, as Herald writes it: every attribute a `ce-<name>` header. */
function ceHeaders(seq: number): MsgHdrs {
  const h = headers();
  for (const [name, value] of Object.entries(eventAttributes(seq))) h.append(`ce-${name}`, value);
  return h;
}

/** `js.publish` per event, each awaiting the stream's ack; a batch issues all before awaiting any. */
async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const nc = await natsConnection();
  const js = jetstream(nc);
  const subject = spec.resources.subject!;
  const publish = async (seq: number, sentAt: number): Promise<void> => {
    await js.publish(subject, paddedData(seq, sentAt, spec.payloadBytes), { headers: ceHeaders(seq) });
  };
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      const acks = [];
      for (let seq = from; seq < from + n; seq++) acks.push(publish(seq, sentAt));
      await Promise.all(acks);
    },
    publishOne: publish,
    close: () => nc.close(),
  };
}

/** The group's durable pull consumer (created by the setup), an explicit `ack()` per message. */
async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const nc = await natsConnection();
  const js = jetstream(nc);
  const source = await js.consumers.get(spec.resources.stream!, placement.group);
  const messages = await source.consume({ max_messages: JETSTREAM_PULL_BATCH });
  const done = (async () => {
    for await (const m of messages) {
      sink.accept(stampOfPadded(m.data));
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

export const natsRawClient: PeerClient = { producer, consumer };
