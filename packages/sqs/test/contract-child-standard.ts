// The contract suite's child process for standard (non-FIFO) queues: it imports this module, calls
// createTransport(), and is killed with SIGKILL before it acks (`childModule` of runContractSuite).
import type { Transport } from '@herald/core';
import { testTransport } from './sqs-test-settings.ts';

export function createTransport(): Transport {
  return testTransport({ fifo: false });
}
