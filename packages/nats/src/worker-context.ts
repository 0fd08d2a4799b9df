import type { Delivery, KeyedExecutor } from '@herald/core';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsDeadLetters } from './dead-letters.ts';
import type { Flow } from './flow.ts';
import type { GroupState } from './group-state.ts';
import type { ResolvedNatsOptions } from './nats-options.ts';
import type { Names } from './names.ts';

/** What a partition worker shares with its subscription. */
export interface WorkerContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: Names;
  readonly options: ResolvedNatsOptions;
  readonly group: string;
  readonly executor: KeyedExecutor;
  readonly flow: Flow;
  readonly state: GroupState;
  readonly deadLetters: NatsDeadLetters;
  readonly onDelivery: (delivery: Delivery) => Promise<void>;
  readonly report: (error: unknown) => void;
}
