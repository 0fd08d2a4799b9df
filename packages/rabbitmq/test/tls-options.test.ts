import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createServer, type TLSSocket } from 'node:tls';
import { parseAmqpUrl, rabbitmq, type RabbitMqOptions } from '../src/index.ts';
import { resolveOptions } from '../src/rabbitmq-options.ts';
import { makeCertificates, opensslMissing } from './fixtures/tls-certificates.ts';

interface CodedError {
  code: string;
  message: string;
  details: { option?: string };
}

/** Asserts `make` throws `HERALD_CONFIG` naming `option`, with no `secret` in its message. */
function refuses(make: () => unknown, option: string, secret = 'test-passphrase'): void {
  assert.throws(make, (error: unknown) => {
    const e = error as CodedError;
    assert.equal(e.code, 'HERALD_CONFIG', e.message);
    assert.equal(e.details.option, option, e.message);
    assert.ok(!e.message.includes(secret), `the message shows no secret: ${e.message}`);
    return true;
  });
}

/** Asserts `url` is refused with `HERALD_BROKER_URL` saying `problem`, showing neither password nor passphrase. */
function refusesUrl(url: string, problem: RegExp): void {
  assert.throws(
    () => parseAmqpUrl(url),
    (error: unknown) => {
      const e = error as CodedError;
      assert.equal(e.code, 'HERALD_BROKER_URL');
      assert.match(e.message, problem);
      assert.doesNotMatch(e.message, /secretpw|secretphrase/);
      return true;
    },
  );
}

describe('TLS parameters of amqps:// URLs', () => {
  it('reads caFile, certFile, keyFile, passphrase and servername into tls, out of the URL amqplib sees', () => {
    const options = parseAmqpUrl(
      'amqps://u:secretpw@mq.example:5671/shop?partitions=4&caFile=%2Fetc%2Fca.pem&certFile=/c.pem' +
        '&keyFile=/k.pem&passphrase=secretphrase&servername=mq.internal&frameMax=8192',
    );
    assert.deepEqual(options, {
      url: 'amqps://u:secretpw@mq.example:5671/shop?frameMax=8192',
      partitions: 4,
      tls: {
        caFile: '/etc/ca.pem',
        certFile: '/c.pem',
        keyFile: '/k.pem',
        passphrase: 'secretphrase',
        servername: 'mq.internal',
      },
    });
    assert.deepEqual(parseAmqpUrl('amqps://u:p@mq:5671').tls, undefined, 'no TLS parameters, no tls option');
  });

  it('refuses TLS parameters on amqp://, unknown and empty ones, naming the parameter', () => {
    refusesUrl(
      'amqp://u:secretpw@mq:5672?caFile=/ca.pem',
      /parameter "caFile" is a TLS one: it needs an amqps/,
    );
    refusesUrl(
      'amqps://u:secretpw@mq:5671?ssl=true',
      /unknown parameter "ssl" \(accepted: .*caFile, certFile/,
    );
    refusesUrl(
      'amqps://u:secretpw@mq:5671?cafile=/ca.pem&passphrase=secretphrase',
      /unknown parameter "cafile"/,
    );
    refusesUrl('amqps://u:secretpw@mq:5671?keyFile=&passphrase=secretphrase', /parameter "keyFile" is empty/);
    refusesUrl('amqps://u:secretpw@mq:5671?caFile=/a&caFile=/b', /parameter "caFile" is given twice/);
  });
});

describe('TLS options of rabbitmq()', () => {
  const url = 'amqps://guest:guest@127.0.0.1:5671';
  const certificates = opensslMissing() === undefined ? makeCertificates() : undefined;
  const skip = opensslMissing();

  it('fails at start-up naming the option when a file cannot be read', () => {
    refuses(() => rabbitmq({ url, tls: { caFile: '/nonexistent/ca.pem' } }), 'tls.caFile');
    refuses(
      () => rabbitmq({ url, tls: { certFile: '/nonexistent/c.pem', keyFile: '/nonexistent/k.pem' } }),
      'tls.certFile',
    );
    refuses(() => rabbitmq({ url, tls: { caFile: '' } }), 'tls.caFile');
    assert.throws(() => rabbitmq({ url, tls: { caFile: '/nonexistent/ca.pem' } }), /ENOENT/);
  });

  it('refuses inconsistent TLS options, naming the option and never the passphrase', { skip }, () => {
    const c = certificates!;
    refuses(() => rabbitmq({ url, tls: { certFile: c.clientCertFile } }), 'tls.keyFile');
    refuses(() => rabbitmq({ url, tls: { keyFile: c.clientKeyFile } }), 'tls.certFile');
    refuses(() => rabbitmq({ url, tls: { caFile: c.caFile, passphrase: c.passphrase } }), 'tls.passphrase');
    refuses(() => rabbitmq({ url, tls: { caFile: c.caFile, ca: 'PEM' } }), 'tls.caFile');
    refuses(() => rabbitmq({ url, tls: { servername: '' } }), 'tls.servername');
    refuses(() => rabbitmq({ url: 'amqp://guest:guest@127.0.0.1:5672', tls: { caFile: c.caFile } }), 'tls');
    refuses(() => rabbitmq({ url, tls: 'on' } as unknown as RabbitMqOptions), 'tls');
    refuses(() => rabbitmq({ url, tls: { caFlie: c.caFile } } as unknown as RabbitMqOptions), 'tls.caFlie');
  });

  it('reads the files into tls.connect options', { skip }, () => {
    const c = certificates!;
    const { tls } = resolveOptions({
      url,
      tls: {
        caFile: c.caFile,
        certFile: c.clientCertFile,
        keyFile: c.clientKeyFile,
        passphrase: c.passphrase,
        servername: c.servername,
      },
    });
    assert.deepEqual(tls, {
      ca: readFileSync(c.caFile),
      cert: readFileSync(c.clientCertFile),
      key: readFileSync(c.clientKeyFile),
      passphrase: c.passphrase,
      servername: c.servername,
    });
    assert.equal(resolveOptions({ url }).tls, undefined);
  });

  it(
    'hands them to amqplib: the client checks the broker by the CA and server name, and shows its certificate',
    { skip },
    async () => {
      const c = certificates!;
      // A TLS server standing in for the broker: it needs a client certificate signed by the test CA, and records
      // what the client sent once the handshake is done (the AMQP protocol header, which it then refuses).
      const seen: { authorized: boolean; servername: string | false; clientCn: unknown; header: string }[] =
        [];
      const server = createServer(
        {
          cert: readFileSync(c.serverCertFile),
          key: readFileSync(c.serverKeyFile),
          ca: readFileSync(c.caFile),
          requestCert: true,
          rejectUnauthorized: true,
        },
        (socket: TLSSocket) => {
          socket.once('data', (chunk: Buffer) => {
            seen.push({
              authorized: socket.authorized,
              servername: (socket as TLSSocket & { servername: string | false }).servername,
              clientCn: socket.getPeerCertificate().subject.CN,
              header: chunk.subarray(0, 4).toString('latin1'),
            });
            socket.destroy();
          });
        },
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const brokerUrl = `amqps://guest:guest@127.0.0.1:${port}`;
      try {
        const transport = rabbitmq({
          ...parseAmqpUrl(
            `${brokerUrl}?connectAttempts=1&caFile=${encodeURIComponent(c.caFile)}` +
              `&certFile=${encodeURIComponent(c.clientCertFile)}&keyFile=${encodeURIComponent(c.clientKeyFile)}` +
              `&passphrase=${c.passphrase}&servername=${c.servername}`,
          ),
          onError: () => undefined,
        });
        await assert.rejects(transport.connect(), { code: 'HERALD_TRANSPORT' });
        await transport.close();
        assert.ok(seen.length >= 1, 'the client completed the handshake and sent the AMQP header');

        // Without the server name the broker's certificate (for broker.test) does not match 127.0.0.1: refused.
        const noName = rabbitmq({
          url: brokerUrl,
          connectAttempts: 1,
          tls: { caFile: c.caFile },
          onError: () => undefined,
        });
        await assert.rejects(noName.connect(), /broker\.test|altnames|IP: 127\.0\.0\.1/i);
        await noName.close();
        // Without the CA the self-signed chain is refused.
        const noCa = rabbitmq({
          url: brokerUrl,
          connectAttempts: 1,
          tls: { servername: c.servername },
          onError: () => undefined,
        });
        await assert.rejects(noCa.connect(), /self[- ]signed|unable to (get|verify)/i);
        await noCa.close();
        // Every handshake the server accepted was the first transport's (publishing and consuming connections).
        for (const connection of seen) {
          assert.deepEqual(connection, {
            authorized: true,
            servername: c.servername,
            clientCn: 'herald-client',
            header: 'AMQP',
          });
        }

        // A wrong passphrase fails at start-up, when the key is first used.
        const badKey = rabbitmq({
          url: brokerUrl,
          connectAttempts: 1,
          tls: {
            caFile: c.caFile,
            certFile: c.clientCertFile,
            keyFile: c.clientKeyFile,
            passphrase: 'nope',
            servername: c.servername,
          },
          onError: () => undefined,
        });
        await assert.rejects(badKey.connect(), (error: unknown) => {
          assert.doesNotMatch((error as Error).message, /nope/);
          return true;
        });
        await badKey.close();
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  );
});
