import type { Placement, TrialSpec } from './protocol.ts';
import type { Sink } from './sink.ts';

/** A system's producer, inside the producer process. It is driven in the two ways of load.ts. */
export interface ProducerDriver {
  /** Publishes events `from .. from + n - 1` in one call (or one window); resolves once all are acknowledged. */
  publishBatch(from: number, n: number): Promise<void>;
  /** Publishes one event stamped `sentAt`; resolves on its acknowledgement. */
  publishOne(seq: number, sentAt: number): Promise<void>;
  close(): Promise<void>;
}

/** A system's consumer, inside a consumer process: it hands every delivery to the sink, then acknowledges it. */
export interface ConsumerDriver {
  /** Stops consuming and closes connections. */
  close(): Promise<void>;
}

/** The child-process half of a system: resolves once connected (producer) or subscribed (consumer). */
export interface PeerClient {
  producer(spec: TrialSpec): Promise<ProducerDriver>;
  consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver>;
}
