import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flow } from '../src/flow.ts';

describe('Flow', () => {
  it('bounds what pulls may ask for and wakes waiters when room frees up', async () => {
    const flow = new Flow(4);
    assert.equal(flow.room(10), 4);
    flow.take(4);
    assert.equal(flow.room(10), 0);
    let woke = false;
    const waiting = flow.waitForRoom(new AbortController().signal).then(() => (woke = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(woke, false);
    flow.give();
    await waiting;
    assert.equal(flow.room(10), 1);
  });

  it('stops waiting when aborted', async () => {
    const flow = new Flow(1);
    flow.take();
    const abort = new AbortController();
    const waiting = flow.waitForRoom(abort.signal);
    abort.abort();
    await waiting;
    assert.equal(flow.buffered, 1);
  });
});
