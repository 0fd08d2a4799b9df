import { logTransport, MemoryLogStore } from '@herald/core';
import { runContractSuite } from '@herald/core/testing';

// One store plays the broker; each create() is a client of it, as separate processes are of a real broker.
const store = new MemoryLogStore({ sessionTimeoutMs: 300 });

runContractSuite({
  name: 'memory',
  create: () => logTransport(store, { pollIntervalMs: 20, commitIntervalMs: 5 }),
  rebalanceMs: 400,
  leaseTimeoutMs: store.sessionTimeoutMs,
  // A second member joins: the store hands it half the partitions at once, and the first member's heartbeat
  // learns it lost them.
  leaseFault: { provoke: (_victim, scene) => scene.join() },
  connectionFault: {
    unsupported: 'in-process: the store is an object of this process, nothing connects to it',
  },
});
