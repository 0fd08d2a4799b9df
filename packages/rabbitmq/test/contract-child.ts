// The contract suite's child process imports this module and calls createTransport(), then is killed with
// SIGKILL before it acks (`childModule` of runContractSuite).
import type { Transport } from '@herald/core';
import { testTransport } from './rabbitmq-test-settings.ts';

export function createTransport(): Transport {
  return testTransport();
}
