/** A lanes trial's transport and keys (0: events published without a key: the unordered consumer). */
export interface LanesArgs {
  readonly transport: 'sqlite' | 'memory';
  readonly keys: number;
  readonly count: number;
  /** The subscription's concurrency (deliveries in flight across keys). */
  readonly concurrency: number;
  /** The sqlite transport's file. */
  readonly path: string;
}

/** What the trial's process measured. */
export interface LanesResult {
  /** `nowUs()` at the first handler entry and when the last event's handler resolved. */
  readonly firstUs: number;
  readonly lastUs: number;
  readonly distinct: number;
  readonly duplicates: number;
  /** Events handled after a later event of their key (see `OrderCheck`). */
  readonly violations: number;
  readonly cpuUs: number;
  readonly maxRssKb: number;
}
