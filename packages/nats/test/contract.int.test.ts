import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { runContractSuite, type ConnectionFault } from '@herald/core/testing';
import { nats } from '../src/index.ts';
import { cleanUp, createTransport, NATS_URL, reachServer, testOptions } from './nats-test-server.ts';
import { natsServerBinary, PrivateNatsServer } from './private-nats-server.ts';

const nc = await reachServer();

if (nc === undefined) {
  it('transport contract: nats', (ctx) =>
    ctx.skip(`no NATS server at ${NATS_URL} (set CI=true to fail instead)`));
} else {
  // The reconnect case restarts a private server, never the shared one.
  const privateServer = natsServerBinary === undefined ? undefined : new PrivateNatsServer(natsServerBinary);
  const connectionFault: ConnectionFault =
    privateServer === undefined
      ? { unsupported: 'nats-server is not installed (a private server is restarted, not the shared one)' }
      : {
          create: async () => {
            await privateServer.start();
            return nats({
              ...testOptions,
              servers: privateServer.servers,
              connectionOptions: { reconnectTimeWait: 100 },
            });
          },
          interrupt: () => privateServer.restart(),
        };
  after(async () => {
    privateServer?.remove();
    await cleanUp(nc);
    await nc.close();
  });
  runContractSuite({
    name: 'nats',
    create: createTransport,
    childModule: fileURLToPath(new URL('./nats-test-server.ts', import.meta.url)),
    rebalanceMs: 2500,
    timeoutMs: 15_000,
    // The longer of the ack wait and the group session: the long handler runs 6 s, 3 times the ack wait.
    leaseTimeoutMs: Math.max(testOptions.ackWaitMs!, testOptions.sessionTimeoutMs!),
    // A second member joins: the first hands over half its partitions, waits the hand-over timeout for their
    // running handlers, then hands those records back (lease lost) to the new owner.
    leaseFault: { provoke: (_victim, scene) => scene.join() },
    connectionFault,
  });
}
