/**
 * SIGTERM to npm's pid (as Docker or systemd send it) stops the supervisor and the four services of `npm start`
 * and frees their ports within 30 s; npm exits 0. See `e2e/npm-start.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertAllGone, npmStart, text } from './e2e/npm-start.ts';

describe('npm start', { timeout: 175_000 }, () => {
  it('SIGTERM to the npm pid stops every service and frees the ports', async () => {
    const running = await npmStart();
    const since = Date.now();
    running.npm.kill('SIGTERM');
    const took = await assertAllGone(running, since);
    assert.equal(await running.exited, 0, text(running));
    assert.match(text(running), /stopping all services \(SIGTERM\)/);
    console.log(`# all stopped ${took} ms after SIGTERM to npm`);
  });
});
