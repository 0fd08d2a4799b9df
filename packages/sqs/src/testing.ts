// Test support: the fauxqs SNS/SQS emulator (a development dependency of this package) started inside the calling
// process, so integration tests need nothing running beforehand, under CI or not. Import it from
// `@herald/sqs/testing`, only where fauxqs is installed.
import { buildApp } from 'fauxqs';

/** A running emulator: its endpoint for the AWS SDK clients (and `sqs({ endpoint })`). */
export interface Emulator {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Stops it (idempotent). Close the transports first: their polls are cut off. */
  stop(): Promise<void>;
}

/**
 * Starts fauxqs on 127.0.0.1 with a port the system picks (`startFauxqs()` would listen on every interface;
 * `buildApp` lets us bind the loopback only). State is in memory and goes with {@link Emulator.stop}. Other
 * processes (a test's children) reach it at `endpoint`, e.g. `HERALD_BROKER=sqs://127.0.0.1:<port>`.
 */
export async function startEmulator(): Promise<Emulator> {
  const app = buildApp({ logger: false });
  const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    stop: () => (stopped ??= app.close()),
  };
}
