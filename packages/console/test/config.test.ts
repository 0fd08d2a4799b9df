import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consoleConfigFromEnv, DEFAULT_CONSOLE_PORT, isLoopback, parseServices } from '../src/config.ts';
import { startConsole } from '../src/console-server.ts';

describe('consoleConfigFromEnv', () => {
  it('binds to loopback on port 3100 by default, the embedded log of the data folder', () => {
    const config = consoleConfigFromEnv({ HERALD_DATA_DIR: '/srv/shop' });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, DEFAULT_CONSOLE_PORT);
    assert.equal(config.token, undefined);
    assert.equal(config.broker, 'sqlite:/srv/shop/herald.db');
    assert.equal(config.traceStore, '/srv/shop/traces.db');
  });

  it('refuses a non-loopback host without a token, naming the variable', () => {
    for (const host of ['0.0.0.0', '10.1.2.3', '::', 'console.example.com']) {
      assert.throws(
        () => consoleConfigFromEnv({ HERALD_CONSOLE_HOST: host }),
        (error: Error & { code?: string }) =>
          error.code === 'HERALD_CONFIG' && error.message.includes('HERALD_CONSOLE_TOKEN'),
        host,
      );
    }
    const config = consoleConfigFromEnv({
      HERALD_CONSOLE_HOST: '0.0.0.0',
      HERALD_CONSOLE_TOKEN: 'sixteen-chars-ok',
    });
    assert.equal(config.token, 'sixteen-chars-ok');
  });

  it('startConsole refuses a non-loopback host without a token before connecting to anything', async () => {
    const config = { ...consoleConfigFromEnv({}), host: '0.0.0.0', broker: 'nonexistent-scheme://x' };
    await assert.rejects(
      startConsole(config),
      (error: Error & { code?: string; details?: { option?: string } }) => {
        assert.equal(error.code, 'HERALD_CONFIG');
        assert.equal(error.details?.option, 'HERALD_CONSOLE_TOKEN');
        return true;
      },
    );
  });

  it('refuses a short token, a bad port, a trace link without {traceId}', () => {
    assert.throws(() => consoleConfigFromEnv({ HERALD_CONSOLE_TOKEN: 'short' }), /HERALD_CONSOLE_TOKEN/);
    assert.throws(() => consoleConfigFromEnv({ HERALD_CONSOLE_PORT: '70000' }), /HERALD_CONSOLE_PORT/);
    assert.throws(
      () => consoleConfigFromEnv({ HERALD_CONSOLE_TRACE_URL: 'http://jaeger/trace' }),
      /HERALD_CONSOLE_TRACE_URL/,
    );
  });

  it('reads the watched services and topics', () => {
    const config = consoleConfigFromEnv({
      HERALD_CONSOLE_SERVICES: 'order=http://127.0.0.1:3000/, payment=http://127.0.0.1:3001',
      HERALD_CONSOLE_TOPICS: 'orders, payments,',
    });
    assert.deepEqual(config.services, [
      { name: 'order', url: 'http://127.0.0.1:3000' },
      { name: 'payment', url: 'http://127.0.0.1:3001' },
    ]);
    assert.deepEqual(config.topics, ['orders', 'payments']);
    assert.throws(() => parseServices('order'), /HERALD_CONSOLE_SERVICES/);
    assert.throws(() => parseServices('order=ftp://x'), /HERALD_CONSOLE_SERVICES/);
  });
});

describe('isLoopback', () => {
  it('knows loopback names and addresses', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1'])
      assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '128.0.0.1'])
      assert.equal(isLoopback(host), false, host);
  });
});
