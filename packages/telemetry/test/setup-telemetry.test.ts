import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { messagingMetrics, tracingActive } from '@herald/core';
import {
  openTraceStore,
  propagatorsFromEnv,
  setupTelemetry,
  startServerSpan,
  tracesExportersFromEnv,
  TRACE_STORE_FILE,
} from '@herald/telemetry';
import { tempFolder } from '@herald/core/testing';

const dir = tempFolder('herald-setup-');

describe('setupTelemetry', () => {
  it('chooses exporters and propagators from the standard OTEL_* variables', () => {
    assert.deepEqual(tracesExportersFromEnv({}), ['herald']);
    assert.deepEqual(tracesExportersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), [
      'otlp',
    ]);
    assert.deepEqual(
      tracesExportersFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
      ['otlp'],
    );
    assert.deepEqual(
      tracesExportersFromEnv({
        OTEL_TRACES_EXPORTER: 'otlp, herald',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
      }),
      ['otlp', 'herald'],
    );
    assert.deepEqual(tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'none' }), ['none']);
    assert.throws(() => tracesExportersFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER/);
    assert.deepEqual(propagatorsFromEnv({}), ['tracecontext', 'baggage']);
    assert.deepEqual(propagatorsFromEnv({ OTEL_PROPAGATORS: 'xray' }), ['xray']);
    assert.throws(() => propagatorsFromEnv({ OTEL_PROPAGATORS: 'b3' }), /OTEL_PROPAGATORS/);
  });

  it('keeps traces in the local store of the data folder when nothing is configured', async () => {
    const telemetry = setupTelemetry({ serviceName: 'order-service', env: { HERALD_DATA_DIR: dir } });
    try {
      const path = join(dir, TRACE_STORE_FILE);
      assert.deepEqual(telemetry.exporters, [`herald:${path}`]);
      assert.ok(tracingActive());
      assert.equal(messagingMetrics(), telemetry.metrics);
      assert.throws(() => setupTelemetry({ serviceName: 'again', env: {} }), /already set up/);
      const span = trace.getTracer('test').startSpan('POST /orders');
      span.end();
      await telemetry.forceFlush();
      const store = openTraceStore({ path });
      const [stored] = store.trace(span.spanContext().traceId);
      assert.equal(stored?.service, 'order-service');
      store.close();
    } finally {
      await telemetry.shutdown();
    }
    assert.equal(tracingActive(), false);
    assert.equal(messagingMetrics(), undefined);
  });

  it('exports OTLP over HTTP to the endpoint the environment names', async () => {
    const bodies: unknown[] = [];
    const server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push({
          url: request.url,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const telemetry = setupTelemetry({
      serviceName: 'payment-service',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`,
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      },
      metrics: false,
    });
    try {
      assert.deepEqual(telemetry.exporters, [`otlp:http://127.0.0.1:${port}/v1/traces`]);
      trace.getTracer('test').startSpan('process orders').end();
      await telemetry.forceFlush();
      assert.equal(bodies.length, 1);
      const { url, body } = bodies[0] as {
        url: string;
        body: {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: { name: string }[] }[];
          }[];
        };
      };
      assert.equal(url, '/v1/traces');
      const [resourceSpans] = body.resourceSpans;
      const attribute = (key: string): string | undefined =>
        resourceSpans!.resource.attributes.find((a) => a.key === key)?.value.stringValue;
      assert.equal(attribute('service.name'), 'payment-service');
      assert.equal(attribute('deployment.environment.name'), 'test');
      assert.equal(resourceSpans!.scopeSpans[0]!.spans[0]!.name, 'process orders');
    } finally {
      await telemetry.shutdown();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('propagates HTTP context with the AWS X-Ray header when selected', async () => {
    const telemetry = setupTelemetry({
      serviceName: 'order-service',
      env: { OTEL_PROPAGATORS: 'xray', OTEL_TRACES_EXPORTER: 'none' },
      metrics: false,
    });
    try {
      assert.deepEqual(telemetry.propagators, ['xray']);
      const amazonTraceId = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
      const request = startServerSpan({
        method: 'POST',
        url: '/orders',
        headers: { 'x-amzn-trace-id': amazonTraceId },
      });
      assert.equal(request.span.spanContext().traceId, '5759e988bd862e3fe1be46a994272793');
      const headers: Record<string, string> = {};
      request.run(() => propagation.inject(context.active(), headers));
      assert.match(
        headers['x-amzn-trace-id'] ?? '',
        /^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/,
      );
      request.end(200);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('records no spans with OTEL_SDK_DISABLED=true, and rejects unknown names at start-up', async () => {
    const telemetry = setupTelemetry({
      serviceName: 's',
      env: { OTEL_SDK_DISABLED: 'true' },
      metrics: false,
    });
    assert.equal(telemetry.tracerProvider, undefined);
    assert.equal(tracingActive(), false);
    await telemetry.shutdown();
    assert.throws(
      () => setupTelemetry({ serviceName: 's', env: { OTEL_TRACES_EXPORTER: 'jaeger' } }),
      /HERALD_CONFIG|OTEL_TRACES_EXPORTER/,
    );
    assert.throws(() => setupTelemetry({ serviceName: '' }), /"serviceName"/);
    assert.throws(
      () =>
        setupTelemetry({
          serviceName: 's',
          env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_EXPORTER: 'otlp' },
        }),
      /OTEL_EXPORTER_OTLP_PROTOCOL/,
    );
    assert.equal(tracingActive(), false);
  });
});
