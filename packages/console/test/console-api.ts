/**
 * The console's HTTP API on a real broker: the live stream over SSE, the dead-letter workflow (grouped, inspected,
 * an edit refused by the schema, a replay, a discard), the order timeline, and the token rule (401 without the
 * token, 403 from another origin) — with a real router failing the events. Each broker's test file calls
 * {@link consoleApiScenario}; topics and groups get a unique prefix per run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPublisher, createRouter, transportFromUrl, withTopicPrefix } from '@herald/core';
import { startConsole, type RunningConsole } from '../src/index.ts';
import { Shipped } from './fixtures/contracts.ts';

const TOKEN = 'a-test-token-of-32-characters-xx';

/** A temporary folder, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-console-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Call {
  status: number;
  body: Record<string, unknown>;
}

async function call(url: string, init: RequestInit = {}): Promise<Call> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Call> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: JSON.stringify(body),
  });
}

/** Reads the SSE stream until an event of `type` arrives; resolves with it. */
async function nextStreamed(
  url: string,
  type: string,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, { signal });
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    for (const frame of buffered.split('\n\n')) {
      const data = /^event: herald\ndata: (.*)$/m.exec(frame)?.[1];
      if (data === undefined) continue;
      const event = JSON.parse(data) as Record<string, unknown>;
      if (event.type === type) return event;
    }
  }
  throw new Error('the stream ended');
}

/** A broker the scenario runs on; `removeTopology` deletes what the run declared under its prefix, at the end. */
export interface ScenarioBroker {
  readonly name: string;
  readonly url: string;
  readonly removeTopology?: (prefix: string) => Promise<unknown>;
}

/** The console's API end to end on `broker`. */
export function consoleApiScenario(broker: ScenarioBroker): void {
  let running: RunningConsole | undefined;
  after(async () => {
    await running?.close();
  });
  describe(`the console API on ${broker.name}`, () => {
    it('streams events, operates dead letters with the token, and shows a timeline', async () => {
      const dir = tempDir();
      const prefix = `console${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
      const group = 'shipping';
      running = await startConsole({
        host: '127.0.0.1',
        port: 0,
        token: TOKEN,
        broker: broker.url,
        topicPrefix: prefix,
        contracts: join(import.meta.dirname, 'fixtures', 'contracts.ts'),
        topics: [],
        group: 'herald-console',
        groups: [group],
        services: [],
        traceStore: join(dir, 'traces.db'),
        traceUrl: undefined,
        bufferSize: 1000,
      });
      const { url } = running;
      const transport = withTopicPrefix(await transportFromUrl(broker.url), prefix);
      const router = createRouter({ transport, group, source: '/test', retry: false, redelivery: false });
      let broken = true;
      const handled: unknown[] = [];
      router.on(Shipped, (event) => {
        if (broken) throw new Error(`carrier rejected parcel for ${event.data.orderId}`);
        handled.push(event.data);
      });
      await router.start();
      try {
        const info = await call(`${url}/api/info`);
        assert.deepEqual(info.body.topics, ['shipments']);
        assert.equal(info.body.tokenRequired, true);

        // The live stream shows a published event.
        const abort = new AbortController();
        const streamed = nextStreamed(`${url}/api/events/stream?type=shipped`, Shipped.type, abort.signal);
        const publisher = createPublisher({ transport, source: '/test' });
        await publisher.publish(Shipped, { orderId: 'o-7', parcels: 2 });
        const event = await streamed;
        abort.abort();
        assert.equal(event.key, 'o-7');
        assert.deepEqual(event.data, { orderId: 'o-7', parcels: 2 });

        // It fails and is dead-lettered: one error group.
        const groups = await waitFor('the dead letter', async () => {
          const answer = await call(`${url}/api/dead-letters/groups`);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          const list = answer.body.groups as {
            key: string;
            group: string;
            count: number;
            message: string;
            ids: string[];
          }[];
          const mine = list.filter((g) => g.group === group);
          return mine.length > 0 ? mine : undefined;
        });
        assert.equal(groups.length, 1);
        assert.equal(groups[0]!.message, 'carrier rejected parcel for o-<n>');
        const id = groups[0]!.ids[0]!;
        const detail = await call(`${url}/api/dead-letters/${encodeURIComponent(id)}`);
        assert.equal(detail.body.schemaKnown, true);
        assert.deepEqual(detail.body.data, { orderId: 'o-7', parcels: 2 });

        // Admin actions: no token, another origin, then an edit the schema refuses; the dead letter stays.
        const noToken = await post(`${url}/api/dead-letters/replay`, { ids: [id] }, { authorization: '' });
        assert.equal(noToken.status, 401);
        const crossSite = await post(
          `${url}/api/dead-letters/replay`,
          { ids: [id] },
          { origin: 'http://evil.test' },
        );
        assert.equal(crossSite.status, 403);
        const invalid = await post(`${url}/api/dead-letters/${encodeURIComponent(id)}/edit`, {
          data: { orderId: 'o-7', parcels: 0 },
        });
        assert.equal(invalid.status, 422);
        assert.equal(invalid.body.code, 'HERALD_VALIDATION');
        assert.equal((await call(`${url}/api/dead-letters/${encodeURIComponent(id)}`)).status, 200);

        // Fixed: the edited event is replayed to the group and handled.
        broken = false;
        const edited = await post(`${url}/api/dead-letters/${encodeURIComponent(id)}/edit`, {
          data: { orderId: 'o-7', parcels: 3 },
        });
        assert.equal(edited.status, 200, JSON.stringify(edited.body));
        assert.deepEqual(edited.body.replayed, [id]);
        await waitFor('the replay handled', () => Promise.resolve(handled.length > 0 ? true : undefined));
        assert.deepEqual(handled, [{ orderId: 'o-7', parcels: 3 }]);

        // Broken again: a second event, discarded by its error group.
        broken = true;
        await publisher.publish(Shipped, { orderId: 'o-8', parcels: 1 });
        const second = await waitFor('the second dead letter', async () => {
          const answer = await call(`${url}/api/dead-letters/groups`);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          const list = answer.body.groups as {
            key: string;
            group: string;
          }[];
          return list.find((g) => g.group === group);
        });
        const discarded = await post(`${url}/api/dead-letters/discard`, { errorGroup: second.key });
        assert.equal(discarded.status, 200);
        assert.equal((discarded.body.discarded as string[]).length, 1);
        const left = (await call(`${url}/api/dead-letters/groups`)).body.groups as { group: string }[];
        assert.deepEqual(
          left.filter((g) => g.group === group),
          [],
        );

        // The timeline of o-8: the event the console saw; no trace (tracing is off in this process).
        const timeline = await call(`${url}/api/timeline/o-8`);
        assert.deepEqual(
          (timeline.body.events as { type: string }[]).map((e) => e.type),
          [Shipped.type],
        );
        assert.equal((timeline.body.trace as { source: string }).source, 'none');
      } finally {
        await router.close();
        await transport.close();
        // The console's own subscription declares queues too: close it before removing the run's topology.
        await running.close();
        running = undefined;
        await broker.removeTopology?.(prefix);
      }
    });
  });
}
