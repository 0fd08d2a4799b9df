/**
 * SIGKILL of the supervisor (`shop/src/start.ts` under `npm start`) leaves no orphan: each service sees its IPC
 * channel close, stops, and frees its port within 30 s. See `e2e/npm-start.ts`.
 */
import { describe, it } from 'node:test';
import { assertAllGone, npmStart } from './e2e/npm-start.ts';

describe('npm start', { timeout: 175_000 }, () => {
  it('SIGKILL of the supervisor leaves no orphaned service', async () => {
    const running = await npmStart();
    const since = Date.now();
    process.kill(running.supervisorPid, 'SIGKILL');
    const took = await assertAllGone(running, since);
    console.log(`# services gone ${took} ms after SIGKILL of start.ts`);
  });
});
