import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrl } from '../src/index.ts';

describe('redactUrl', () => {
  it('masks the password of every scheme, parsable or not', () => {
    const cases: [string, string][] = [
      ['amqp://guest:secretpw@127.0.0.1:5672/%2F', 'amqp://guest:***@127.0.0.1:5672/%2F'],
      ['amqps://u:secretpw@mq:99999/shop', 'amqps://u:***@mq:99999/shop'], // a bad port: new URL() throws
      ['nats://u:secretpw@n1:4222,n2:4222', 'nats://u:***@n1:4222,n2:4222'], // several hosts: new URL() throws
      ['nats://u:secretpw@n1:4222,nats://u:secretpw@n2:4222', 'nats://u:***@n1:4222,nats://u:***@n2:4222'],
      ['nats://secrettoken@n1:4222', 'nats://***@n1:4222'],
      ['kafka://u:secretpw@k1:9092,k2:9092', 'kafka://u:***@k1:9092,k2:9092'],
      ['postgres://app:secretpw@db:5432/test', 'postgres://app:***@db:5432/test'],
      ['amqp://u:se@cr/et?pw@mq:5672', 'amqp://u:***@mq:5672'], // unencoded @ / ? in the password
      [
        'sqs://127.0.0.1:4566?region=eu-west-1&token=secretpw',
        'sqs://127.0.0.1:4566?region=eu-west-1&token=***',
      ],
      ['redis://:secretpw@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
      [
        'amqps://u:secretpw@mq:5671?keyFile=/k.pem&passphrase=secretkey',
        'amqps://u:***@mq:5671?keyFile=/k.pem&passphrase=***',
      ],
    ];
    for (const [url, expected] of cases) {
      const masked = redactUrl(url);
      assert.equal(masked, expected, url);
      assert.ok(!masked.includes('secret'), url);
    }
  });

  it('masks URLs inside a message and leaves text without credentials as it is', () => {
    assert.equal(
      redactUrl('NATS: connecting to nats://u:secretpw@h:4222 failed: "nats://u:secretpw@h:4222" refused'),
      'NATS: connecting to nats://u:***@h:4222 failed: "nats://u:***@h:4222" refused',
    );
    for (const text of ['sqlite:/var/herald.db', 'kafka://127.0.0.1:19092', 'no url here', '']) {
      assert.equal(redactUrl(text), text);
    }
  });
});
