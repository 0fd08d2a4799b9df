import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecord, encodeEvent, HeraldError, type CloudEvent } from '@herald/core';

const event: CloudEvent = {
  specversion: '1.0',
  id: '0190b7e4-0000-7000-8000-000000000001',
  source: '/test',
  type: 'ThingHappened',
  subject: 's',
  time: '2026-01-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data: { a: 1, b: ['x'] },
  partitionkey: 'k',
  correlationid: 'c',
  causationid: 'p',
  extensions: { tenant: 'acme' },
};

describe('codec', () => {
  it('encodes in binary mode and decodes back the same event', () => {
    const record = encodeEvent('things', event);
    assert.equal(record.key, 'k');
    assert.equal(record.attributes.tenant, 'acme');
    assert.equal(record.attributes.correlationid, 'c');
    assert.deepEqual(decodeRecord(record), event);
  });

  it('rejects a record without the required attributes, naming them', () => {
    assert.throws(
      () =>
        decodeRecord({ topic: 't', key: undefined, attributes: { source: '/x' }, data: new Uint8Array() }),
      (e: unknown) =>
        e instanceof HeraldError && e.code === 'HERALD_DECODE' && e.permanent && /id, type/.test(e.message),
    );
  });

  it('rejects data that is not JSON for a JSON content type', () => {
    const record = { ...encodeEvent('things', event), data: new TextEncoder().encode('{oops') };
    assert.throws(() => decodeRecord(record), { code: 'HERALD_DECODE' });
  });
});
