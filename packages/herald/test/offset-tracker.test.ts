import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OffsetTracker } from '@herald/core';

describe('OffsetTracker', () => {
  it('commits only below the oldest unfinished offset', () => {
    const tracker = new OffsetTracker();
    assert.equal(tracker.committable(), undefined);
    for (const offset of [10n, 11n, 12n, 13n]) tracker.track(offset);
    tracker.finish(11n);
    tracker.finish(13n);
    assert.equal(tracker.committable(), 10n);
    tracker.finish(10n);
    assert.equal(tracker.committable(), 12n);
    tracker.finish(12n);
    assert.equal(tracker.committable(), 14n);
    assert.equal(tracker.size, 0);
  });
});
