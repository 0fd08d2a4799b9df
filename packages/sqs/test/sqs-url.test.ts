import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSqsUrl, resolveOptions } from '../src/index.ts';

describe('parseSqsUrl', () => {
  it('reads an emulator endpoint and the parameters', () => {
    assert.deepEqual(parseSqsUrl('sqs://localhost:4566?region=us-east-1&fifo=true'), {
      endpoint: 'http://localhost:4566',
      region: 'us-east-1',
      fifo: true,
    });
    assert.deepEqual(
      parseSqsUrl(
        'sqs://127.0.0.1:9324?fifo=false&provision=false&prefix=shop-&accountId=123456789012&visibilityTimeoutSeconds=60&waitTimeSeconds=10&maxReceiveCount=9&retentionSeconds=86400&prefetch=50',
      ),
      {
        endpoint: 'http://127.0.0.1:9324',
        fifo: false,
        provision: false,
        prefix: 'shop-',
        accountId: '123456789012',
        visibilityTimeoutSeconds: 60,
        waitTimeSeconds: 10,
        maxReceiveCount: 9,
        retentionSeconds: 86_400,
        prefetch: 50,
      },
    );
  });

  it('uses AWS endpoints without a host, and HTTPS with tls=true', () => {
    assert.deepEqual(parseSqsUrl('sqs://?region=eu-west-1'), { region: 'eu-west-1' });
    assert.deepEqual(parseSqsUrl('sqs://'), {});
    assert.deepEqual(parseSqsUrl('sqs://sqs.internal:443?tls=true'), {
      endpoint: 'https://sqs.internal:443',
    });
    assert.deepEqual(parseSqsUrl('sqs://[::1]:4566'), { endpoint: 'http://[::1]:4566' });
  });

  it('refuses what it cannot use with HERALD_BROKER_URL naming the problem', () => {
    const cases: [string, RegExp][] = [
      ['amqp://localhost', /scheme/],
      ['sqs://key:secret@localhost:4566', /credentials are not read/],
      ['sqs://localhost:4566/queue', /no path/],
      ['sqs://localhost:4566?fifo=yes', /"fifo" must be true or false/],
      ['sqs://localhost:4566?waitTimeSeconds=1.5', /"waitTimeSeconds" must be an integer/],
      ['sqs://localhost:4566?colour=blue', /unknown parameter "colour" \(accepted: region, /],
      ['sqs://localhost:4566?region=a&region=b', /given twice/],
      ['sqs://?tls=true', /needs a host/],
    ];
    for (const [url, message] of cases) {
      assert.throws(() => parseSqsUrl(url), { code: 'HERALD_BROKER_URL', message }, url);
    }
  });

  it('yields options the transport accepts, or that it refuses with HERALD_CONFIG', () => {
    assert.equal(resolveOptions(parseSqsUrl('sqs://localhost:4566?region=us-east-1')).fifo, true);
    assert.throws(() => resolveOptions(parseSqsUrl('sqs://localhost:4566?waitTimeSeconds=30')), {
      code: 'HERALD_CONFIG',
      message: /waitTimeSeconds.*1 to 20/,
    });
  });
});

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    const resolved = resolveOptions({});
    assert.equal(resolved.fifo, true);
    assert.equal(resolved.provision, true);
    assert.equal(resolved.visibilityTimeoutSeconds, 30);
    assert.equal(resolved.waitTimeSeconds, 10);
    assert.equal(resolved.maxReceiveCount, 20);
    assert.equal(resolved.retentionSeconds, 1_209_600);
    assert.equal(resolved.prefix, '');
  });

  it('names the option and the accepted values of a wrong one', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ fifo: 'yes' }, 'fifo'],
      [{ region: 'Europe' }, 'region'],
      [{ endpoint: 'localhost:4566' }, 'endpoint'],
      [{ accountId: '42' }, 'accountId'],
      [{ prefix: 'has.dot' }, 'prefix'],
      [{ visibilityTimeoutSeconds: 1 }, 'visibilityTimeoutSeconds'],
      [{ maxReceiveCount: 0 }, 'maxReceiveCount'],
      [{ retentionSeconds: 10 }, 'retentionSeconds'],
      [{ prefetch: 0 }, 'prefetch'],
    ];
    for (const [options, option] of cases) {
      assert.throws(
        () => resolveOptions(options),
        (error: { code?: string; details?: { option?: string } }) =>
          error.code === 'HERALD_CONFIG' && error.details?.option === option,
        option,
      );
    }
  });
});
