/**
 * Data files are private to their owner (issue 13, item 6): started on a data folder that does not exist yet,
 * under umask 000 (the loosest), the order and payment services create every file of it — their SQLite
 * databases, the embedded log, the trace store, and each one's `-wal`, `-shm` and `-wake` companions — 0600, and
 * the folders 0700. A database file that already exists keeps its mode.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@herald/core/testing';
import { spawnService, type ServiceChild } from '../src/runtime/spawn-service.ts';

const DEADLINE_MS = 60_000;

/** Every file and folder under `dir`, with its permission bits. */
function modesUnder(dir: string): { path: string; directory: boolean; mode: number }[] {
  const out: { path: string; directory: boolean; mode: number }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push({ path, directory: entry.isDirectory(), mode: statSync(path).mode & 0o777 });
    if (entry.isDirectory()) out.push(...modesUnder(path));
  }
  return out;
}

describe('data files are created private to the owner', () => {
  const root = mkdtempSync(join(tmpdir(), 'herald-modes-'));
  // Two folders the services create: the data folder and its parent.
  const dataDir = join(root, 'state', 'data');
  const children: ServiceChild[] = [];
  let previousUmask = 0;
  before(() => {
    // The children inherit the umask: with none at all, only an explicit mode keeps the files private.
    previousUmask = process.umask(0);
  });
  after(async () => {
    for (const child of children) child.process.kill('SIGTERM');
    await Promise.all(children.map((child) => child.exited));
    process.umask(previousUmask);
    rmSync(root, { recursive: true, force: true });
  });

  function start(name: 'order-service' | 'payment-service' | 'inventory-service'): Promise<string> {
    // Without OTEL_* the services keep their traces in the data folder.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')));
    const child = spawnService(name, {
      env: {
        ...env,
        HERALD_DATA_DIR: dataDir,
        HERALD_BROKER: '',
        HERALD_TOPIC_PREFIX: '',
        DATABASE_URL: '',
        PORT: '0',
      },
      stdio: 'pipe',
      readyTimeoutMs: DEADLINE_MS,
    });
    children.push(child);
    return child.ready;
  }

  it('creates databases, the embedded log, the trace store and their companions 0600, folders 0700', async () => {
    const [orderUrl, paymentUrl] = await Promise.all([start('order-service'), start('payment-service')]);
    const response = await fetch(`${orderUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'ada', items: [{ sku: 'CB-606', quantity: 1 }] }),
    });
    assert.equal(response.status, 202);
    const { orderId } = (await response.json()) as { orderId: string };
    // The order crossed the embedded log and was charged: every file of both services has been written.
    await waitFor(
      async () => {
        const payments = (await (await fetch(`${paymentUrl}/payments`)).json()) as { orderId: string }[];
        return payments.some((p) => p.orderId === orderId);
      },
      DEADLINE_MS,
      'the payment of the order',
    );

    const entries = modesUnder(join(root, 'state'));
    const files = entries.filter((e) => !e.directory).map((e) => relative(dataDir, e.path));
    for (const expected of ['order.db', 'payment.db', 'order.db-wal', 'payment.db-wal'])
      assert.ok(files.includes(expected), `${expected} in ${files.join(', ')}`);
    assert.ok(
      files.some((f) => f.endsWith('-wake')),
      `a wake file in ${files.join(', ')}`,
    );
    assert.ok(
      files.some((f) => f.startsWith('traces')),
      `the trace store in ${files.join(', ')}`,
    );
    assert.ok(files.length >= 8, files.join(', '));
    assert.deepEqual(
      entries
        .filter((e) => e.mode !== (e.directory ? 0o700 : 0o600))
        .map((e) => [e.path, e.mode.toString(8)]),
      [],
    );
  });

  it('keeps the mode of a database file that already exists', async () => {
    const existing = join(dataDir, 'inventory.db');
    writeFileSync(existing, '');
    chmodSync(existing, 0o640);
    await start('inventory-service');
    assert.equal(statSync(existing).mode & 0o777, 0o640);
    // Its WAL takes the mode of the database file, as SQLite does for every companion file.
    assert.equal(statSync(`${existing}-wal`).mode & 0o777, 0o640);
  });
});
