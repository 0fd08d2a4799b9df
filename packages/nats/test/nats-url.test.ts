import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transportFromUrl } from '@herald/core';
import { parseNatsUrl } from '../src/index.ts';

describe('nats:// URLs', () => {
  it('keeps the credentials on every server', () => {
    assert.deepEqual(parseNatsUrl('nats://u:p@n1:4222,n2:4223?prefix=x'), {
      servers: ['nats://u:p@n1:4222', 'nats://u:p@n2:4223'],
      prefix: 'x',
    });
  });

  it('shows no password when the connection fails', async () => {
    // Port 1 on loopback refuses at once: the connect error quotes the servers it tried.
    const transport = await transportFromUrl('nats://u:secretpw@127.0.0.1:1,127.0.0.1:2');
    const error = await transport
      .publish([
        {
          topic: 'nats-url-test',
          key: 'k',
          attributes: { id: '1', source: '/t', type: 'T' },
          data: new Uint8Array(),
        },
      ])
      .then(
        () => assert.fail('publishing without a server must fail'),
        (e: unknown) => e as Error & { code?: string },
      );
    assert.equal(error.code, 'HERALD_TRANSPORT');
    assert.ok(
      !JSON.stringify({ message: error.message, stack: error.stack }).includes('secretpw'),
      error.message,
    );
    assert.ok(error.message.includes('u:***@127.0.0.1:1'), error.message);
    await transport.close();
  });
});
