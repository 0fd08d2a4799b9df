// Shared by the integration tests and the contract suite's crash child: one prefix per test run (inherited by
// child processes through the environment), short timeouts so lost members are noticed quickly, and cleanup.
import { randomBytes } from 'node:crypto';
import type { Transport } from '@herald/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { nats, type NatsTransportOptions } from '../src/index.ts';

export const NATS_URL = process.env.HERALD_NATS_URL ?? 'nats://127.0.0.1:4222';

process.env.HERALD_NATS_TEST_PREFIX ??= `htest_${randomBytes(4).toString('hex')}`;
/** Every stream and internal subject of this run starts with it, so cleanup removes exactly what we made. */
export const TEST_PREFIX = process.env.HERALD_NATS_TEST_PREFIX;

export const testOptions: NatsTransportOptions = {
  servers: NATS_URL,
  prefix: TEST_PREFIX,
  partitions: 4,
  ackWaitMs: 2000,
  sessionTimeoutMs: 1500,
  handoverTimeoutMs: 2000,
  fetchExpiresMs: 5000,
  maxAgeMs: 60 * 60 * 1000,
};

/** The contract suite's child process calls this. */
export function createTransport(): Transport {
  return nats(testOptions);
}

/**
 * Connects to the test server, or explains why not. Under `CI=true` an unreachable server is an error (the run
 * must fail, not skip); elsewhere the caller skips the NATS tests.
 */
export async function reachServer(): Promise<NatsConnection | undefined> {
  try {
    const nc = await connect({ servers: NATS_URL, timeout: 2000, maxReconnectAttempts: 0 });
    await jetstreamManager(nc);
    return nc;
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(
        `NATS with JetStream is not reachable at ${NATS_URL} (CI=true: failing, not skipping)`,
        {
          cause: error,
        },
      );
    }
    return undefined;
  }
}

/** Deletes every stream this test run created. */
export async function cleanUp(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const names: string[] = [];
  for await (const name of jsm.streams.names()) if (name.startsWith(`${TEST_PREFIX}_`)) names.push(name);
  await Promise.all(names.map((name) => jsm.streams.delete(name)));
}
