import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { defaultBrokerUrl, parseBrokerUrl } from '../src/broker.ts';
import { dataDir, REPO_ROOT } from '../src/runtime/config.ts';

describe('broker selection (HERALD_BROKER)', () => {
  it('defaults to the embedded log in the data folder', () => {
    assert.equal(dataDir({}), resolve(REPO_ROOT, '.data'));
    assert.equal(defaultBrokerUrl({ HERALD_DATA_DIR: '/tmp/shop' }), 'sqlite:/tmp/shop/herald.db');
  });

  it('parses sqlite URLs in their usual spellings, with options', () => {
    assert.equal(parseBrokerUrl('sqlite:/var/herald.db').options.path, '/var/herald.db');
    assert.equal(parseBrokerUrl('sqlite:///var/herald.db').options.path, '/var/herald.db');
    assert.equal(parseBrokerUrl('sqlite:data/herald.db').options.path, resolve('data/herald.db'));
    assert.deepEqual(
      parseBrokerUrl('sqlite:/x.db?partitions=8&durability=D2&sessionTimeoutMs=3000').options,
      {
        path: '/x.db',
        partitions: 8,
        durability: 'D2',
        sessionTimeoutMs: 3000,
      },
    );
  });

  it('refuses unknown schemes and bad URLs with HERALD_BROKER_URL naming the accepted schemes', () => {
    for (const url of [
      'kafka://127.0.0.1:9092',
      'herald.db',
      'sqlite:',
      'sqlite:/x.db?partitions=many',
      'sqlite:/x.db?color=blue',
    ]) {
      assert.throws(
        () => parseBrokerUrl(url),
        (error: { code?: string; message: string }) =>
          error.code === 'HERALD_BROKER_URL' &&
          error.message.includes('sqlite:') &&
          error.message.includes(url),
        url,
      );
    }
  });
});
