import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthChecks, httpStatus } from '@herald/telemetry';

describe('health', () => {
  it('is live without checking dependencies, and ready only when every check passes', async () => {
    let databaseUp = true;
    let consumersRunning = false;
    const health = healthChecks({
      service: 'order-service',
      timeoutMs: 50,
      checks: {
        database: () => {
          if (!databaseUp) throw new Error('SQLITE_CANTOPEN');
        },
        broker: () => Promise.resolve(),
        consumers: () => consumersRunning,
      },
    });
    const live = health.live();
    assert.equal(live.status, 'ok');
    assert.equal(live.service, 'order-service');
    assert.equal(httpStatus(live), 200);

    let ready = await health.ready();
    assert.equal(ready.status, 'unavailable');
    assert.equal(httpStatus(ready), 503);
    assert.equal(ready.checks!.database!.status, 'ok');
    assert.deepEqual(
      { status: ready.checks!.consumers!.status, error: ready.checks!.consumers!.error },
      { status: 'failed', error: 'check returned false' },
    );

    consumersRunning = true;
    ready = await health.ready();
    assert.equal(ready.status, 'ok');
    assert.equal(httpStatus(ready), 200);

    databaseUp = false;
    ready = await health.ready();
    assert.equal(ready.checks!.database!.error, 'SQLITE_CANTOPEN');
    assert.equal(health.live().status, 'ok');
  });

  it('fails a check that does not answer in time', async () => {
    const health = healthChecks({
      service: 's',
      timeoutMs: 20,
      checks: { broker: () => new Promise(() => undefined) },
    });
    const ready = await health.ready();
    assert.equal(ready.status, 'unavailable');
    assert.match(ready.checks!.broker!.error!, /within 20 ms/);
    assert.throws(() => healthChecks({ service: 's', checks: {}, timeoutMs: 0 }), /timeoutMs/);
  });
});
