import { fileURLToPath } from 'node:url';
import { after, describe } from 'node:test';
import { runContractSuite } from '@herald/core/testing';
import { startEmulator } from '../src/testing.ts';
import { ENDPOINT_VARIABLE, testTransport } from './sqs-test-settings.ts';

// The emulator runs in this process on a loopback port; the crash test's child process finds it through the
// environment it inherits.
const emulator = await startEmulator();
process.env[ENDPOINT_VARIABLE] = emulator.endpoint;
// Root hooks run after the suites' own (which close the transports).
after(() => emulator.stop());

// SNS and SQS are request/response over HTTP: no connection outlives a call, and the emulator keeps its queues
// in memory, so restarting it would lose them.
const connectionFault = {
  unsupported:
    'HTTP requests hold no connection to drop, and the in-process emulator loses its queues on a restart',
};

describe('sqs, FIFO topics and queues', () => {
  runContractSuite({
    name: 'sqs (fifo)',
    create: () => testTransport({ fifo: true }),
    childModule: fileURLToPath(new URL('./sqs-test-settings.ts', import.meta.url)),
    rebalanceMs: 300,
    timeoutMs: 15_000,
    connectionFault,
  });
});

describe('sqs, standard topics and queues', () => {
  runContractSuite({
    name: 'sqs (standard)',
    create: () => testTransport({ fifo: false }),
    childModule: fileURLToPath(new URL('./contract-child-standard.ts', import.meta.url)),
    rebalanceMs: 300,
    timeoutMs: 15_000,
    connectionFault,
  });
});
