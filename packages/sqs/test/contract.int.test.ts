import { fileURLToPath } from 'node:url';
import { after, describe } from 'node:test';
import { runContractSuite } from '@herald/core/testing';
import { startEmulator } from '../src/testing.ts';
import { destroyFaultClients, ENDPOINT_VARIABLE, leaseFault, testTransport } from './sqs-test-settings.ts';

// The emulator runs in this process on a loopback port; the crash test's child process finds it through the
// environment it inherits.
const emulator = await startEmulator();
process.env[ENDPOINT_VARIABLE] = emulator.endpoint;
// Root hooks run after the suites' own (which close the transports).
after(async () => {
  destroyFaultClients();
  await emulator.stop();
});

// SNS and SQS are request/response over HTTP: no connection outlives a call, and the emulator keeps its queues
// in memory, so restarting it would lose them.
const connectionFault = {
  unsupported:
    'HTTP requests hold no connection to drop, and the in-process emulator loses its queues on a restart',
};

/** The contract suite on FIFO or standard topics and queues, its crash-test child started from `childFile`. */
function sqsContract(fifo: boolean, childFile: string): void {
  const kind = fifo ? 'fifo' : 'standard';
  describe(`sqs, ${fifo ? 'FIFO' : 'standard'} topics and queues`, () => {
    runContractSuite({
      name: `sqs (${kind})`,
      create: () => testTransport({ fifo }),
      childModule: fileURLToPath(new URL(childFile, import.meta.url)),
      rebalanceMs: 300,
      timeoutMs: 15_000,
      // The test visibility timeout: the long handler runs 6 s while its visibility is extended every second.
      leaseTimeoutMs: 2000,
      leaseFault: leaseFault(fifo),
      connectionFault,
    });
  });
}

sqsContract(true, './sqs-test-settings.ts');
sqsContract(false, './contract-child-standard.ts');
