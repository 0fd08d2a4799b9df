// Settings shared by the integration tests and the contract suite's child process (which inherits the
// environment): the emulator's endpoint, dummy credentials, and short timeouts so lost members are noticed fast.
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Transport } from '@herald/core';
import type { LeaseFault } from '@herald/core/testing';
import { sqs, type SqsTransport, type SqsTransportOptions } from '../src/index.ts';

// The SDK warns once per process that its 2027 versions need Node 22; the tests run on Node 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Set by the test file once the emulator runs; inherited by child processes. */
export const ENDPOINT_VARIABLE = 'HERALD_SQS_TEST_ENDPOINT';

/** Background errors the tests expect (a receive cut off at close) are not worth a line each. */
function quiet(error: unknown): void {
  const code = (error as { code?: unknown } | undefined)?.code;
  const name = (error as { cause?: { name?: unknown } } | undefined)?.cause?.name;
  if (code === 'HERALD_CLOSED' || name === 'AbortError') return;
  console.error('[herald] sqs (test):', error);
}

/**
 * A transport on the test emulator: visibility 2 s (a killed member's messages come back within 2 s), long polls
 * of 1 s (closing waits at most that for a poll under way).
 */
export function testTransport(options: Partial<SqsTransportOptions> = {}): SqsTransport {
  const endpoint = process.env[ENDPOINT_VARIABLE];
  if (endpoint === undefined) throw new Error(`${ENDPOINT_VARIABLE} is not set: start the emulator first`);
  return sqs({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    prefix: 'ht-',
    visibilityTimeoutSeconds: 2,
    waitTimeSeconds: 1,
    onError: quiet,
    ...options,
  });
}

/** Clients made by {@link leaseFault}, destroyed by {@link destroyFaultClients}. */
const faultClients = new Set<SQSClient>();

/**
 * The contract's lease fault: a member whose visibility extensions (heartbeats) fail once provoked, as when AWS
 * cannot be reached. Its messages' visibility runs out, a second member (and the first itself) receives them
 * again, and the first member's deliveries lose their lease. Hand-backs (visibility 0) and acks still go through.
 */
export function leaseFault(fifo: boolean): LeaseFault {
  let failing = false;
  return {
    create: () => {
      const endpoint = process.env[ENDPOINT_VARIABLE];
      const client = new SQSClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      faultClients.add(client);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const entries = (args.input as { Entries?: { VisibilityTimeout?: number }[] }).Entries ?? [];
          const extending = entries.some((entry) => (entry.VisibilityTimeout ?? 0) > 0);
          if (failing && context.commandName === 'ChangeMessageVisibilityBatchCommand' && extending) {
            throw Object.assign(new Error('visibility extensions cut off by the test'), {
              name: 'TimeoutError',
            });
          }
          return next(args);
        },
        { step: 'initialize', name: 'heraldTestLeaseFault' },
      );
      return testTransport({ fifo, sqsClient: client, onError: () => undefined });
    },
    provoke: async (_victim, scene) => {
      failing = true;
      await scene.join();
    },
  };
}

/** Destroys the clients of the lease faults (after their transports closed). */
export function destroyFaultClients(): void {
  for (const client of faultClients) client.destroy();
  faultClients.clear();
}

/** For the contract suite's child process (`childModule`): FIFO mode. */
export function createTransport(): Transport {
  return testTransport({ fifo: true });
}
