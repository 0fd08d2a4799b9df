// What B4's orchestrator (trial.ts) and its processes (worker.ts) say to each other.

/** The systems B4 compares: Herald's outbox and relay, and the two peers. */
export type B4SystemId = 'herald-outbox' | 'bare-skip-locked' | 'graphile-worker';

/** The schemas of one system for the whole run: `app` holds the business, outbox and inbox tables. */
export interface B4Schemas {
  readonly app: string;
  /** graphile-worker's own schema (its jobs table); the other systems do not use it. */
  readonly jobs: string;
}

export type B4Phase = 'throughput' | 'latency';

/** How a trial's process is started: its role, the system, where its tables and its transport file are. */
export interface B4WorkerArgs {
  readonly role: 'producer' | 'relay' | 'consumer';
  readonly system: B4SystemId;
  readonly schemas: B4Schemas;
  /** The sqlite transport's database file for this trial. */
  readonly path: string;
  /** Business transactions in the whole trial (both phases): the consumer's arrays are this long. */
  readonly total: number;
}

/** Orchestrator → producer: run a phase over sequence numbers `from .. from + count - 1`. */
export interface PhaseCommand {
  readonly type: 'phase';
  readonly phase: B4Phase;
  readonly from: number;
  readonly count: number;
  /** Offered rate of the latency phase, transactions/s. */
  readonly rate: number;
}

/** Producer → orchestrator: a phase's transactions all committed. */
export interface PhaseDone {
  readonly type: 'phase-done';
  readonly phase: B4Phase;
  /** Transactions whose COMMIT resolved. */
  readonly committed: number;
  /** `nowUs()` before the first BEGIN and after the last COMMIT resolved. */
  readonly firstUs: number;
  readonly lastUs: number;
  /** `nowUs()` after each COMMIT resolved, by sequence number − `from`; -1 where it did not commit. */
  readonly commitUs: readonly number[];
}

/** CPU and memory of one process over the trial. */
export interface B4Usage {
  readonly cpuUs: number;
  readonly maxRssKb: number;
}

/** The consumer's result: per sequence number, when its handler started and when its inbox commit resolved. */
export interface B4ConsumerResult extends B4Usage {
  /** `nowUs()` at handler entry of the first delivery of each event; -1 if never handled. */
  readonly entryUs: readonly number[];
  /** `nowUs()` after the inbox transaction of each event committed; -1 if never handled. */
  readonly doneUs: readonly number[];
  /** Deliveries the inbox recognised as already handled (redeliveries). */
  readonly duplicates: number;
}

/** The relay's result. */
export interface B4RelayResult extends B4Usage {
  /** Publish calls to the transport (batches). */
  readonly publishCalls: number;
  /** Records published (a batch retried counts again). */
  readonly published: number;
  /** Failures the relay reported and retried. */
  readonly errors: number;
}
