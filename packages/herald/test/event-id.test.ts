import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate, version } from 'uuid';
import { newEventId } from '../src/message.ts';

describe('newEventId', () => {
  it('gives UUIDv7s that increase strictly within the process, across many ids per millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => newEventId());
    for (const id of ids.slice(0, 100)) {
      assert.ok(validate(id), id);
      assert.equal(version(id), 7);
    }
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('carries the creation time in its first 48 bits', () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    const ms = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    // Ids within one millisecond may borrow the next one when the counter runs over, never more.
    assert.ok(ms >= before && ms <= after + 1, `${ms} in [${before}, ${after + 1}]`);
  });
});
