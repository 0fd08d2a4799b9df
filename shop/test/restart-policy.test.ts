import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RESTART_POLICY, RestartPolicy, restartPolicyFrom } from '../src/runtime/restart-policy.ts';

describe('restart policy of npm start', () => {
  it('doubles the delay from 500 ms per consecutive crash, capped at 30 s', () => {
    const policy = new RestartPolicy({ ...DEFAULT_RESTART_POLICY, limit: 100, windowMs: 1 });
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 9; i++) {
      now += 10; // each run lasted 10 ms; crashes 10 ms apart stay outside the 1 ms window
      const decision = policy.crashed(now, now - 5);
      assert.equal(decision.action, 'restart');
      if (decision.action === 'restart') {
        assert.equal(decision.restart, i + 1);
        delays.push(decision.delayMs);
      }
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('starts again from 500 ms after a run that lasted 30 s', () => {
    const policy = new RestartPolicy();
    assert.deepEqual(policy.crashed(1000, 0), { action: 'restart', delayMs: 500, restart: 1 });
    assert.deepEqual(policy.crashed(2000, 1500), { action: 'restart', delayMs: 1000, restart: 2 });
    assert.deepEqual(policy.crashed(200_000, 170_000), { action: 'restart', delayMs: 500, restart: 3 });
  });

  it('gives up at the 5th crash within 60 s, not when the crashes are spread out', () => {
    const burst = new RestartPolicy();
    const actions = [0, 1, 2, 3, 4].map((i) => burst.crashed(i * 1000, i * 1000 - 100).action);
    assert.deepEqual(actions, ['restart', 'restart', 'restart', 'restart', 'give-up']);
    const spread = new RestartPolicy();
    for (let i = 0; i < 10; i++) assert.equal(spread.crashed(i * 20_000, i * 20_000 - 100).action, 'restart');
  });

  it('reads HERALD_RESTART_LIMIT and HERALD_RESTART_WINDOW_MS, and rejects bad values', () => {
    const policy = restartPolicyFrom({ HERALD_RESTART_LIMIT: '2', HERALD_RESTART_WINDOW_MS: '1000' });
    assert.equal(policy.limit, 2);
    assert.equal(policy.windowMs, 1000);
    assert.deepEqual(restartPolicyFrom({}), DEFAULT_RESTART_POLICY);
    assert.throws(() => restartPolicyFrom({ HERALD_RESTART_LIMIT: '0' }), /HERALD_RESTART_LIMIT/);
    assert.throws(() => restartPolicyFrom({ HERALD_RESTART_WINDOW_MS: 'soon' }), /HERALD_RESTART_WINDOW_MS/);
    const two = new RestartPolicy(policy);
    assert.equal(two.crashed(0, -10).action, 'restart');
    assert.equal(two.crashed(500, 400).action, 'give-up');
  });
});
