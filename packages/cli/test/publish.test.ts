import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HeraldError, transportFromUrl, type EventDefinition } from '@herald/core';
import { run } from '../src/main.ts';
import { buildOperatorEvent, CLI_SOURCE } from '../src/publish-event.ts';
import { tapStream, type TapEvent } from '../src/tap.ts';
import { captureIo, waitFor } from './capture-io.ts';
import { tempDir } from './cli-process.ts';
import { Charged } from './fixtures/contracts.ts';

const contracts = join(import.meta.dirname, 'fixtures', 'contracts.ts');
const definitions = new Map<string, EventDefinition>([[Charged.type, Charged]]);

async function rejection(promise: Promise<unknown>): Promise<HeraldError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HeraldError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

describe('buildOperatorEvent', () => {
  it('validates a known type, keys it as its definition does, and names each failing field', async () => {
    const { event, validated } = await buildOperatorEvent({
      topic: 'charges',
      type: Charged.type,
      data: { orderId: 'o-7', cents: 5 },
      definitions,
    });
    assert.equal(validated, true);
    assert.equal(event.partitionkey, 'o-7');
    assert.equal(event.source, CLI_SOURCE);
    assert.deepEqual(event.data, { orderId: 'o-7', cents: 5 });

    const invalid = await rejection(
      buildOperatorEvent({
        topic: 'charges',
        type: Charged.type,
        data: { orderId: 7, cents: -1 },
        definitions,
      }),
    );
    assert.equal(invalid.code, 'HERALD_VALIDATION');
    assert.match(invalid.message, /orderId: .*; cents: /);
    assert.deepEqual(
      (invalid.details as { issues: { path: string }[] }).issues.map((i) => i.path),
      ['orderId', 'cents'],
    );
  });

  it('refuses a known type on another topic, and an unknown type unless forced', async () => {
    const topic = await rejection(
      buildOperatorEvent({
        topic: 'orders',
        type: Charged.type,
        data: { orderId: 'o', cents: 1 },
        definitions,
      }),
    );
    assert.equal(topic.code, 'HERALD_VALIDATION');
    assert.match(topic.message, /on topic "charges"/);

    const unknown = await rejection(
      buildOperatorEvent({ topic: 'charges', type: 'Nope', data: {}, definitions }),
    );
    assert.match(unknown.message, /Unknown event type "Nope".*known types: cli\.test\.Charged.*--force/);
    const none = await rejection(
      buildOperatorEvent({ topic: 'charges', type: 'Nope', data: {}, definitions: new Map() }),
    );
    assert.match(none.message, /no event definitions are loaded/);

    const forced = await buildOperatorEvent({
      topic: 'charges',
      type: 'Nope',
      data: { any: 'thing' },
      key: 'k',
      definitions,
      force: true,
    });
    assert.equal(forced.validated, false);
    assert.equal(forced.event.partitionkey, 'k');
    assert.deepEqual(forced.event.data, { any: 'thing' });
  });
});

describe('herald publish and tail (in-process, sqlite)', () => {
  it('publishes --data, @file and stdin, prints the id, and refuses bad data with exit codes', async () => {
    const dir = tempDir();
    const broker = `sqlite:${join(dir, 'herald.db')}`;
    const env = { HERALD_BROKER: broker, HERALD_CONTRACTS: contracts };
    const file = join(dir, 'charge.json');
    writeFileSync(file, '{"orderId":"from-file","cents":2}');

    const inline = captureIo(env);
    assert.equal(
      await run(
        ['publish', 'charges', '--type', Charged.type, '--data', '{"orderId":"inline","cents":1}'],
        inline,
      ),
      0,
      inline.err(),
    );
    const fromFile = captureIo(env);
    assert.equal(
      await run(['publish', 'charges', '--type', Charged.type, '--data', `@${file}`], fromFile),
      0,
    );
    const fromStdin = captureIo(env, { stdin: '{"orderId":"from-stdin","cents":3}' });
    assert.equal(
      await run(['publish', 'charges', '--type', Charged.type, '--data', '-', '--json'], fromStdin),
      0,
    );
    const ids = [
      inline.out().trim(),
      fromFile.out().trim(),
      (JSON.parse(fromStdin.out()) as { event: { id: string } }).event.id,
    ];
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);

    const invalid = captureIo(env);
    assert.equal(
      await run(
        ['publish', 'charges', '--type', Charged.type, '--data', '{"orderId":"x","cents":0}'],
        invalid,
      ),
      1,
    );
    assert.match(invalid.err(), /HERALD_VALIDATION: Invalid cli\.test\.Charged: cents: /);
    const badJson = captureIo(env);
    assert.equal(await run(['publish', 'charges', '--type', Charged.type, '--data', '{oops'], badJson), 2);
    assert.match(badJson.err(), /--data is not valid JSON/);
    const missingFile = captureIo(env);
    assert.equal(
      await run(
        ['publish', 'charges', '--type', Charged.type, '--data', `@${join(dir, 'none.json')}`],
        missingFile,
      ),
      2,
    );
    assert.match(missingFile.err(), /cannot read/);
    const unknown = captureIo(env);
    assert.equal(await run(['publish', 'charges', '--type', 'Nope', '--data', '{}'], unknown), 1);
    assert.match(unknown.err(), /--force/);
    const noType = captureIo(env);
    assert.equal(await run(['publish', 'charges', '--data', '{}'], noType), 2);

    // What landed: exactly the three accepted events, with their data, read back from the file.
    const transport = await transportFromUrl(broker);
    try {
      const seen: TapEvent[] = [];
      const tap = tapStream(transport, { topics: ['charges'], fromBeginning: true }, (e) => {
        seen.push(e);
      });
      await tap.ready;
      await waitFor(() => seen.length >= 3, 'the published events');
      await tap.close();
      assert.deepEqual(seen.map((e) => e.attributes.id).sort(), [...ids].sort());
      assert.deepEqual(seen.map((e) => (e.event?.data as { orderId: string }).orderId).sort(), [
        'from-file',
        'from-stdin',
        'inline',
      ]);
    } finally {
      await transport.close();
    }
  });

  it('tail --json --type prints the matching events and stops cleanly when aborted', async () => {
    const dir = tempDir();
    const env = { HERALD_BROKER: `sqlite:${join(dir, 'herald.db')}`, HERALD_CONTRACTS: contracts };
    const abort = new AbortController();
    const tailIo = captureIo(env, { signal: abort.signal });
    const tail = run(['tail', 'charges', '--json', '--type', Charged.type, '--key', 'k2'], tailIo);
    await waitFor(() => tailIo.err().includes('herald: tailing charges'), 'the tail to be ready');
    for (const [key, type] of [
      ['k1', Charged.type],
      ['k2', 'Other'],
      ['k2', Charged.type],
    ] as const) {
      const io = captureIo(env);
      const args = [
        'publish',
        'charges',
        '--type',
        type,
        '--key',
        key,
        '--data',
        '{"orderId":"o","cents":1}',
      ];
      assert.equal(await run(type === 'Other' ? [...args, '--force'] : args, io), 0, io.err());
    }
    await waitFor(() => tailIo.out().includes('\n'), 'the matching event');
    abort.abort();
    assert.equal(await tail, 0, tailIo.err());
    const lines = tailIo.out().trim().split('\n');
    assert.equal(lines.length, 1, tailIo.out());
    const printed = JSON.parse(lines[0]!) as { key: string; type: string; data: unknown; topic: string };
    assert.equal(printed.key, 'k2');
    assert.equal(printed.type, Charged.type);
    assert.equal(printed.topic, 'charges');
    assert.deepEqual(printed.data, { orderId: 'o', cents: 1 });
    assert.match(tailIo.err(), /left behind for group herald-tail-[0-9a-f]{12}: .*SQLite file/);
  });

  it('tail --limit stops by itself; --from-beginning reads what came before', async () => {
    const dir = tempDir();
    const env = { HERALD_BROKER: `sqlite:${join(dir, 'herald.db')}`, HERALD_CONTRACTS: contracts };
    for (const orderId of ['a', 'b', 'c']) {
      const io = captureIo(env);
      assert.equal(
        await run(
          ['publish', 'charges', '--type', Charged.type, '--data', JSON.stringify({ orderId, cents: 1 })],
          io,
        ),
        0,
      );
    }
    const tailIo = captureIo(env);
    assert.equal(await run(['tail', 'charges', '--from-beginning', '--limit', '2'], tailIo), 0, tailIo.err());
    const lines = tailIo.out().trim().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines)
      assert.match(
        line,
        /^\S+ {2}charges\[\d+\]@\d+ {2}cli\.test\.Charged {2}key=[abc] {2}id=\S+ {2}\{"orderId":"[abc]","cents":1\}$/,
      );
    const bad = captureIo(env);
    assert.equal(await run(['tail', 'charges', '--limit', '0'], bad), 2);
  });
});
