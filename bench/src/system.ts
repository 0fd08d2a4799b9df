import type { Durability, Mode, PeerKind, Variant } from './protocol.ts';

/** What the orchestrator needs to create a trial's resources; `groups` lists the consumer groups it uses. */
export interface TrialContext {
  /** Unique per trial, safe in file, queue and stream names. */
  readonly name: string;
  /** A directory for the trial's files, removed after the run. */
  readonly dir: string;
  readonly groups: readonly string[];
  readonly mode: Mode;
  /** Events in the trial. */
  readonly count: number;
  /** Resources prepared once for every system of a scenario in a repetition (see {@link Suite.prepare}). */
  readonly shared: Readonly<Record<string, string>>;
}

/** Resources created for one trial, and how to remove them. */
export interface TrialResources {
  readonly resources: Readonly<Record<string, string>>;
  teardown(): Promise<void>;
}

/** The server processes whose CPU and memory count with a system's own (`kafka`: the JVM serving the port). */
export type Broker = 'redis-server' | 'nats-server' | 'beam.smp' | 'kafka';

/** One row of a benchmark's tables: a peer at a durability, with how it is driven. */
export interface System {
  readonly id: string;
  readonly peer: PeerKind;
  readonly durability: Durability;
  /** Display name. */
  readonly label: string;
  /** The durability label shown on every row (D0/D1/D2 and what the ack means). */
  readonly durabilityLabel: string;
  /** The server process whose CPU and memory count with the system's own. */
  readonly broker?: Broker;
  readonly variants: readonly Variant[];
  /** Events per publish call and calls in flight, in throughput mode. */
  readonly batch: number;
  readonly window: number;
  /** Bytes of event data (B2, B3); absent: B1's order event. */
  readonly payloadBytes?: number;
  /** How the system is driven, for the docs. */
  readonly notes: string;
  setup(context: TrialContext): Promise<TrialResources>;
}
