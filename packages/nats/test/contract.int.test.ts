import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { runContractSuite } from '@herald/core/testing';
import { cleanUp, createTransport, NATS_URL, reachServer } from './nats-test-server.ts';

const nc = await reachServer();

if (nc === undefined) {
  it('transport contract: nats', (ctx) =>
    ctx.skip(`no NATS server at ${NATS_URL} (set CI=true to fail instead)`));
} else {
  after(async () => {
    await cleanUp(nc);
    await nc.close();
  });
  runContractSuite({
    name: 'nats',
    create: createTransport,
    childModule: fileURLToPath(new URL('./nats-test-server.ts', import.meta.url)),
    rebalanceMs: 2500,
    timeoutMs: 15_000,
  });
}
