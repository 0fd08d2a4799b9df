import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTransportUrl,
  memory,
  transportFromUrl,
  TRANSPORT_URL_SCHEMES,
  type TransportUrlScheme,
} from '../src/index.ts';

describe('transportFromUrl', () => {
  it('opens the memory transport from "memory:"', async () => {
    const transport = await transportFromUrl('memory:');
    assert.equal(transport.name, 'memory');
    await transport.close();
  });

  it('refuses a URL without a scheme or with an unknown one, naming every accepted scheme', async () => {
    for (const url of ['', 'herald.db', 'redis://127.0.0.1:6379', 'memory:extra']) {
      await assert.rejects(
        () => transportFromUrl(url),
        (error: { code?: string; message: string }) =>
          error.code === 'HERALD_BROKER_URL' &&
          TRANSPORT_URL_SCHEMES.every((scheme) => error.message.includes(scheme)),
        url,
      );
    }
  });

  it('tries registered schemes first, so a transport of your own has a URL too', async () => {
    const created: string[] = [];
    const custom: TransportUrlScheme = {
      schemes: ['test:'],
      transport: 'memory',
      form: 'test:NAME',
      parse: (url) => ({ name: url.slice('test:'.length) }),
      create: (url) => {
        created.push(url);
        return memory();
      },
    };
    await checkTransportUrl('test:x', { schemes: [custom] });
    assert.deepEqual(created, [], 'checking creates nothing');
    const transport = await transportFromUrl('TEST:one', { schemes: [custom] });
    assert.deepEqual(created, ['TEST:one']);
    await transport.close();
  });

  it('masks credentials in its errors', async () => {
    await assert.rejects(
      () => transportFromUrl('nope://user:secretpw@h:1,h:2'),
      (error: Error) => !error.message.includes('secretpw') && error.message.includes('user:***@'),
    );
  });
});
