import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError } from '@herald/core';
import { JetStreamApiError } from '@nats-io/jetstream';
import { AuthorizationError, TimeoutError } from '@nats-io/transport-node';
import { apiCode, transportError } from '../src/nats-errors.ts';

describe('NATS error mapping', () => {
  it('wraps client errors in HERALD_TRANSPORT with the cause, retryable', () => {
    const cause = new TimeoutError();
    const error = transportError(cause, 'publishing to orders/1');
    assert.equal(error.code, 'HERALD_TRANSPORT');
    assert.equal(error.permanent, false);
    assert.equal(error.cause, cause);
    assert.match(error.message, /publishing to orders\/1/);
    assert.equal(error.details?.natsError, 'TimeoutError');
  });

  it('marks authorization failures permanent', () => {
    assert.equal(transportError(new AuthorizationError('no'), 'connecting').permanent, true);
  });

  it('keeps the JetStream API code', () => {
    const cause = new JetStreamApiError({ code: 404, err_code: 10059, description: 'stream not found' });
    assert.equal(apiCode(cause), 10059);
    assert.equal(transportError(cause, 'x').details?.jetStreamCode, 10059);
    assert.equal(apiCode(new Error('plain')), undefined);
  });

  it('lets a HeraldError through', () => {
    const error = new HeraldError('HERALD_CLOSED', 'closed');
    assert.equal(transportError(error, 'x'), error);
  });
});
