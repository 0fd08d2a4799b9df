import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  registerMessagingMetrics,
  type DeliveryLabels,
  type HeraldLogger,
  type MessagingMetrics,
  type Transport,
  type TransportRecord,
} from '@herald/core';
import { startFailingRouter, waitFor } from '@herald/core/testing';

// Issue 13 item 5: decode failures were in no metric, dead-lettering wrote no log line, and events of an unknown
// type were acknowledged silently.

const SECRET = 'card-4111-1111-1111-1111';
const encoder = new TextEncoder();

interface Entry {
  readonly level: 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function recordingLogger(): HeraldLogger & { entries: Entry[] } {
  const entries: Entry[] = [];
  return {
    entries,
    warn: (fields, message) => entries.push({ level: 'warn', fields, message }),
    error: (fields, message) => entries.push({ level: 'error', fields, message }),
  };
}

function countingMetrics(): MessagingMetrics & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const add = (name: string, l: DeliveryLabels, label: string): void => {
    const key = `${name} ${l.topic} ${l.type} ${l.group} ${label}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  return {
    counts,
    published: () => undefined,
    processed: () => undefined,
    failed: () => undefined,
    retried: () => undefined,
    handlerDuration: () => undefined,
    deadLettered: (l, reason) => add('dead-lettered', l, reason),
    skipped: (l, reason) => add('skipped', l, reason),
  };
}

function rawRecord(topic: string, attributes: Record<string, string>, data: string): TransportRecord {
  return { topic, key: 'k', attributes, data: encoder.encode(data) };
}

const attributes = (id: string, type: string): Record<string, string> => ({
  specversion: '1.0',
  id,
  source: '/writer',
  type,
  datacontenttype: 'application/json',
});

async function scenario(
  publish: (transport: Transport, topic: string) => Promise<void>,
  expect: (done: { deadLetters: number; skipped: number }) => boolean,
): Promise<{ entries: Entry[]; counts: Map<string, number>; topic: string; group: string }> {
  const metrics = countingMetrics();
  const unregister = registerMessagingMetrics(metrics);
  const logger = recordingLogger();
  const { router, transport, topic, group } = await startFailingRouter({
    topicPrefix: 'visible',
    logger,
    retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
    redelivery: { maxDeliveries: 2, backoff: { initialMs: 5, maxMs: 5 } },
    fails: (data) => data.text === 'fail',
    message: 'handler failed',
  }).catch((error: unknown) => {
    unregister();
    throw error;
  });
  try {
    await publish(transport, topic);
    await waitFor(async () => {
      const deadLetters = (await transport.deadLetters!.list({ group })).length;
      const skipped = [...metrics.counts]
        .filter(([k]) => k.startsWith('skipped'))
        .reduce((n, [, v]) => n + v, 0);
      return expect({ deadLetters, skipped });
    });
    await router.close();
  } finally {
    unregister();
    await transport.close();
  }
  return { entries: logger.entries, counts: metrics.counts, topic, group };
}

function assertOneEntry(
  entries: readonly Entry[],
  expected: { level: 'warn' | 'error'; id: string; type: string | undefined; group: string; reason: string },
): void {
  assert.equal(entries.length, 1, `one log entry: ${JSON.stringify(entries)}`);
  const [entry] = entries as [Entry];
  assert.equal(entry.level, expected.level);
  assert.equal(entry.fields.event_id, expected.id);
  assert.equal(entry.fields.event_type, expected.type);
  assert.equal(entry.fields.group, expected.group);
  assert.equal(entry.fields.reason, expected.reason);
  assert.ok(!JSON.stringify(entry).includes(SECRET), 'the entry holds no event data');
  assert.ok(!('data' in entry.fields));
}

describe('router: dead letters and skipped events are counted and logged', () => {
  it('a record that cannot be decoded (data not JSON)', async () => {
    const { entries, counts, topic, group } = await scenario(
      (t, topic) =>
        t.publish([rawRecord(topic, attributes('bad-json', 'Known'), `{"secret":"${SECRET}"`)]).then(),
      ({ deadLetters }) => deadLetters === 1,
    );
    assert.equal(counts.get(`dead-lettered ${topic} Known ${group} decode`), 1);
    assertOneEntry(entries, { level: 'error', id: 'bad-json', type: 'Known', group, reason: 'decode' });
  });

  it('a record missing CloudEvents attributes is counted under type "unknown"', async () => {
    const { entries, counts, topic, group } = await scenario(
      (t, topic) => t.publish([rawRecord(topic, { id: 'no-type' }, JSON.stringify({ SECRET }))]).then(),
      ({ deadLetters }) => deadLetters === 1,
    );
    assert.equal(counts.get(`dead-lettered ${topic} unknown ${group} decode`), 1);
    assertOneEntry(entries, {
      level: 'error',
      id: 'no-type',
      type: undefined,
      group,
      reason: 'decode',
    });
  });

  it('an event that fails validation', async () => {
    const { entries, counts, topic, group } = await scenario(
      (t, topic) =>
        t.publish([rawRecord(topic, attributes('invalid', 'Known'), JSON.stringify({ key: SECRET }))]).then(),
      ({ deadLetters }) => deadLetters === 1,
    );
    assert.equal(counts.get(`dead-lettered ${topic} Known ${group} validation`), 1);
    assertOneEntry(entries, { level: 'error', id: 'invalid', type: 'Known', group, reason: 'validation' });
  });

  it('an event whose handler keeps failing (max attempts)', async () => {
    const data = JSON.stringify({ key: SECRET, seq: 1, text: 'fail' });
    const { entries, counts, topic, group } = await scenario(
      (t, topic) => t.publish([rawRecord(topic, attributes('failing', 'Known'), data)]).then(),
      ({ deadLetters }) => deadLetters === 1,
    );
    assert.equal(counts.get(`dead-lettered ${topic} Known ${group} max-attempts`), 1);
    assertOneEntry(entries, { level: 'error', id: 'failing', type: 'Known', group, reason: 'max-attempts' });
    assert.equal(entries[0]!.fields.attempts, 2);
  });

  it('events of a type with no handler: each counted, the first of the type logged', async () => {
    const data = JSON.stringify({ key: SECRET, seq: 1 });
    const { entries, counts, topic, group } = await scenario(
      (t, topic) =>
        t
          .publish([
            rawRecord(topic, attributes('stranger-1', 'Stranger'), data),
            rawRecord(topic, attributes('stranger-2', 'Stranger'), data),
          ])
          .then(),
      ({ skipped }) => skipped === 2,
    );
    assert.equal(counts.get(`skipped ${topic} Stranger ${group} unknown-type`), 2);
    assertOneEntry(entries, {
      level: 'warn',
      id: 'stranger-1',
      type: 'Stranger',
      group,
      reason: 'unknown-type',
    });
  });
});
