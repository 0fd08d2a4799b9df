/**
 * Found by the PostgreSQL restart test (issue 9): when the database goes away between the sender's answer and
 * its record, the notification must still end `sent` (and `NotificationSent` be emitted) once the database is
 * back, not stay `sending` for good. A redelivery cannot repair it: the claim and the inbox record are already
 * committed. Here the database "goes away" for 800 ms from inside the sender (every new connection refused), on
 * real PostgreSQL. Without PostgreSQL the file skips; under `CI=true` it fails.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { memory } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import pg from 'pg';
import { OrderConfirmed, SERVICES } from '../src/contracts/index.ts';
import { notificationService } from '../src/notification/service.ts';
import type { Notification } from '../src/notification/store.ts';
import { ADMIN_DATABASE_URL, postgresReachable } from './e2e/state.ts';
import { observe, publisherAs } from './in-process.ts';

if (!(await postgresReachable())) {
  if (process.env.CI === 'true')
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_DATABASE_URL} (CI=true: failing, not skipping)`);
  it('notification outcome recorded after the database comes back', (t) =>
    t.skip(`PostgreSQL is not reachable at ${ADMIN_DATABASE_URL}`));
} else {
  const pool = new pg.Pool({ connectionString: ADMIN_DATABASE_URL, max: 10 });
  pool.on('error', () => undefined);
  const schema = `notifrecord_${Date.now().toString(36)}_${process.pid}`;
  after(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it('records a sent notification once the database is back, and emits NotificationSent', async () => {
    let down = false;
    // The service's pool: while `down`, a new connection is refused, as by a stopped server.
    const flaky = new Proxy(pool, {
      get(target, property, receiver) {
        if (property === 'connect')
          return () =>
            down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : target.connect();
        if (property === 'query')
          return (...args: Parameters<pg.Pool['query']>) =>
            down
              ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'))
              : (target.query as (...a: unknown[]) => unknown)(...args);
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const sent: Notification[] = [];
    const sender = {
      channel: 'test',
      send(notification: Notification) {
        sent.push(notification);
        down = true; // the answer is in, and the database is gone before it can be recorded
        setTimeout(() => (down = false), 800);
        return Promise.resolve();
      },
    };
    const transport = memory();
    const service = await notificationService({
      database: { kind: 'postgres', pool: flaky, schema },
      transport,
      sender,
      relay: { pollIntervalMs: 10 },
    });
    const watched = observe(transport, ['notifications']);
    await service.start();
    await watched.subscription.ready;
    try {
      await publisherAs(transport, SERVICES.order.source).publish(OrderConfirmed, {
        orderId: 'o-db-away',
        userId: 'ada',
        amountCents: 8900,
      });
      await waitFor(
        () => watched.events.some((e) => e.type === 'NotificationSent'),
        15_000,
        'NotificationSent',
      );
      const [record] = await service.store.recent(10);
      assert.equal(record?.orderId, 'o-db-away');
      assert.equal(record?.status, 'sent');
      assert.equal(sent.length, 1, 'sent once');
    } finally {
      await watched.subscription.close();
      await service.close();
      await transport.close();
    }
  });
}
