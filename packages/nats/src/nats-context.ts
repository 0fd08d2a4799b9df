import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsDeadLetters } from './dead-letters.ts';
import type { GroupState } from './group-state.ts';
import type { Names } from './names.ts';
import type { ResolvedNatsOptions } from './nats-options.ts';
import type { Topology } from './topology.ts';

/** What a connected transport shares with its subscriptions. */
export interface NatsContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: Names;
  readonly options: ResolvedNatsOptions;
  readonly topology: Topology;
  readonly state: GroupState;
  readonly deadLetters: NatsDeadLetters;
}
