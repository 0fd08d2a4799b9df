import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { SqliteLogStore } from '../src/index.ts';
import { tempDb } from './fixtures/temp-db.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function child(script: string, args: string[]): ChildProcessByStdio<Writable, Readable, null> {
  const proc = spawn(
    process.execPath,
    ['--conditions=@herald/source', '--import', 'tsx', fixture(script), ...args],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  cleanups.push(() => proc.kill('SIGKILL'));
  return proc;
}

function lines(proc: ChildProcessByStdio<Writable, Readable, null>): {
  next: (prefix: string) => Promise<string>;
} {
  let buffer = '';
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  const queued: string[] = [];
  proc.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const index = waiting.findIndex((w) => line.startsWith(w.prefix));
      if (index >= 0) waiting.splice(index, 1)[0]!.resolve(line);
      else queued.push(line);
    }
  });
  return {
    next: (prefix) => {
      const index = queued.findIndex((line) => line.startsWith(prefix));
      if (index >= 0) return Promise.resolve(queued.splice(index, 1)[0]!);
      return new Promise((resolve) => waiting.push({ prefix, resolve }));
    },
  };
}

const exited = (proc: ChildProcessByStdio<Writable, Readable, null>) =>
  new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

describe('sqlite log store: several processes on one file', () => {
  it('keeps offsets dense and loses nothing when two processes append at once', async () => {
    const db = tempDb();
    cleanups.push(db.remove);
    const count = 3000;
    // Both start on a file that does not exist yet: the schema creation races too.
    const producers = ['p1', 'p2'].map((tag) =>
      child('append-child.ts', [db.path, 'shared', tag, String(count), '25']),
    );
    assert.deepEqual(await Promise.all(producers.map(exited)), [0, 0]);

    const store = new SqliteLogStore({ path: db.path });
    cleanups.push(() => store.close());
    const seen = new Set<string>();
    const lastSeqOfKey = new Map<string, number>();
    for (let partition = 0; partition < 4; partition++) {
      const records = await store.read('shared', partition, 0n, 1_000_000);
      assert.equal(await store.endOffset('shared', partition), BigInt(records.length));
      records.forEach((r, i) =>
        assert.equal(r.offset, BigInt(i), `offsets of partition ${partition} are dense`),
      );
      for (const r of records) {
        assert.ok(!seen.has(r.attributes.id!), `${r.attributes.id} stored once`);
        seen.add(r.attributes.id!);
        if (r.key === undefined) continue;
        const { seq } = JSON.parse(new TextDecoder().decode(r.data)) as { seq: number };
        assert.ok(seq > (lastSeqOfKey.get(r.key) ?? -1), `key ${r.key} keeps its order`);
        lastSeqOfKey.set(r.key, seq);
      }
    }
    assert.equal(seen.size, 2 * count);
  });

  it("wakes a watcher in this process soon after another process's append", async (t) => {
    const db = tempDb();
    cleanups.push(db.remove);
    const store = new SqliteLogStore({ path: db.path });
    cleanups.push(() => store.close());
    const wakes: number[] = [];
    store.watch(() => wakes.push(performance.timeOrigin + performance.now()));
    const writer = child('wake-child.ts', [db.path, 'woken']);
    const output = lines(writer);
    await output.next('READY');
    const latencies: number[] = [];
    for (let round = 0; round < 20; round++) {
      const before = wakes.length;
      writer.stdin.write('append\n');
      const appendedAt = Number((await output.next('APPENDED')).split(' ')[1]);
      const deadline = Date.now() + 5000;
      while (wakes.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      assert.ok(wakes.length > before, `round ${round}: the watcher fired`);
      latencies.push(wakes[before]! - appendedAt);
    }
    writer.stdin.write('quit\n');
    assert.equal(await exited(writer), 0);
    latencies.sort((a, b) => a - b);
    t.diagnostic(
      `append (other process) -> watcher: median ${latencies[10]!.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms`,
    );
  });
});
