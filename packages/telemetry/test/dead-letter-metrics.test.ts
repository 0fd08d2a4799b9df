import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportRecord } from '@herald/core';
import { startFailingRouter, waitFor } from '@herald/core/testing';
import { loggerFor, prometheusMetrics } from '@herald/telemetry';

// Issue 13 item 5, end to end: the router's dead letters (decode, validation, max-attempts) and skipped unknown
// types reach the Prometheus registry, and a pino logger passed as the router's `logger` gets one line each.

const SECRET = 'password-hunter2';
const encoder = new TextEncoder();

const record = (topic: string, id: string, type: string, data: string): TransportRecord => ({
  topic,
  key: id,
  attributes: { specversion: '1.0', id, source: '/writer', type, datacontenttype: 'application/json' },
  data: encoder.encode(data),
});

/** The value of one sample of Prometheus text, labels in any order. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries(
      [...body.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as [string, string]),
    );
    const same =
      Object.keys(found).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => found[k] === v);
    if (same) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('Prometheus metrics and pino logs of dead letters and skipped events', () => {
  it('count each dead letter by reason and each skipped unknown type, with one log line each', async () => {
    const metrics = prometheusMetrics({ processMetrics: false });
    const lines: Record<string, unknown>[] = [];
    const destination = {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    };
    const log = loggerFor({ service: 'svc', destination, level: 'info' });
    const { router, transport, topic, group } = await startFailingRouter({
      topicPrefix: 'watched',
      logger: log,
      retry: false,
      redelivery: false,
      message: 'always fails',
    }).catch((error: unknown) => {
      metrics.close();
      throw error;
    });
    try {
      await transport.publish([
        record(topic, 'e-decode', 'Known', `{"secret":"${SECRET}"`),
        record(topic, 'e-invalid', 'Known', JSON.stringify({ key: SECRET })),
        record(topic, 'e-failing', 'Known', JSON.stringify({ key: SECRET, seq: 1 })),
        record(topic, 'e-stranger', 'Stranger', JSON.stringify({ key: SECRET, seq: 1 })),
      ]);
      await waitFor(
        async () => (await transport.deadLetters!.list({ group })).length === 3 && lines.length === 4,
      );
      await router.close();

      const text = await metrics.text();
      const labels = { topic, type: 'Known', group };
      assert.equal(sample(text, 'herald_events_dead_lettered_total', { ...labels, reason: 'decode' }), 1);
      assert.equal(sample(text, 'herald_events_dead_lettered_total', { ...labels, reason: 'validation' }), 1);
      assert.equal(
        sample(text, 'herald_events_dead_lettered_total', { ...labels, reason: 'max-attempts' }),
        1,
      );
      assert.equal(
        sample(text, 'herald_events_skipped_total', {
          topic,
          type: 'Stranger',
          group,
          reason: 'unknown-type',
        }),
        1,
      );

      const byId = new Map(lines.map((line) => [line.event_id, line]));
      for (const [id, reason, level] of [
        ['e-decode', 'decode', 'error'],
        ['e-invalid', 'validation', 'error'],
        ['e-failing', 'max-attempts', 'error'],
        ['e-stranger', 'unknown-type', 'warn'],
      ] as const) {
        const line = byId.get(id);
        assert.ok(line, `a log line for ${id}`);
        assert.equal(line.reason, reason);
        assert.equal(line.level, level);
        assert.equal(line.group, group);
        assert.equal(line.topic, topic);
        assert.equal(line.service, 'svc');
      }
      assert.equal(lines.length, 4);
      assert.ok(!JSON.stringify(lines).includes(SECRET), 'no line holds event data');
    } finally {
      metrics.close();
      await transport.close();
    }
  });
});
