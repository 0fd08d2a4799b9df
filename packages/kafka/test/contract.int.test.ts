import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runContractSuite } from '@herald/core/testing';
import { brokerReachable, brokers, createTransport } from './fixtures/kafka-target.ts';

// Against the real broker: `scripts/kafka/broker.sh start`. Each test uses its own topics and groups.
const reachable = await brokerReachable();
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const hint = `No Kafka broker at ${brokers.join(',')}: start one with "scripts/kafka/broker.sh start"`;

if (reachable) {
  runContractSuite({
    name: 'kafka',
    create: createTransport,
    childModule: fileURLToPath(new URL('./fixtures/kafka-target.ts', import.meta.url)),
    rebalanceMs: 1500,
    timeoutMs: 20_000,
    // The fixture's session timeout: the long handler runs 3 s while its member heartbeats every 100 ms.
    leaseTimeoutMs: 1000,
    // A second member joins: the rebalance gives it half the partitions, and their deliveries' leases are lost.
    leaseFault: { provoke: (_victim, scene) => scene.join() },
    connectionFault: {
      unsupported:
        'the shared broker cannot be restarted for one test (scripts/kafka/broker.sh start formats a fresh log ' +
        "dir, so a restart loses every engineer's topics), a private broker is a JVM that takes tens of seconds " +
        'to start twice on this box, Kafka has no admin call that drops client connections, and clients reach ' +
        'the advertised listener directly, so a proxy cannot cut them',
    },
  });
} else if (inCi) {
  // Under CI a missing broker is a failure, never a skip.
  it('transport contract: kafka needs its broker', () => assert.fail(hint));
} else {
  describe('transport contract: kafka', () => {
    it('needs a broker', (t) => t.skip(hint));
  });
}
