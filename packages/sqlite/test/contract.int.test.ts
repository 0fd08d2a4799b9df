import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runContractSuite } from '@herald/core/testing';
import { CONTRACT_SESSION_TIMEOUT_MS, createTransport } from './fixtures/contract-transport.ts';
import { tempDb } from './fixtures/temp-db.ts';

// Every create() opens its own connection to one file, as separate processes do; the crash test runs a real one.
const db = tempDb();
process.env.HERALD_SQLITE_CONTRACT_DB = db.path;
after(() => db.remove());

runContractSuite({
  name: 'sqlite',
  create: createTransport,
  childModule: fileURLToPath(new URL('./fixtures/contract-transport.ts', import.meta.url)),
  // A hand-over takes the owner's heartbeat, then the newcomer's: two heartbeat intervals (a third of the
  // session timeout each), plus slack.
  rebalanceMs: CONTRACT_SESSION_TIMEOUT_MS,
  leaseTimeoutMs: CONTRACT_SESSION_TIMEOUT_MS,
  // A second member joins and takes half the partitions: the first learns at its next heartbeat.
  leaseFault: { provoke: (_victim, scene) => scene.join() },
  connectionFault: {
    unsupported:
      'embedded: each process opens the log file itself, so there is no connection or server to lose; a process ' +
      'restart is the killed-child and abandoned-consumer cases',
  },
});
