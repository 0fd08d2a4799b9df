import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError } from '@herald/core';
import { toHeraldError } from '../src/rabbitmq-errors.ts';

function amqpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('rabbitmq error mapping', () => {
  it('maps a refused alternate exchange to HERALD_CONFIG naming "partitions"', () => {
    const error = toHeraldError(
      amqpError(
        406,
        "Operation failed: ExchangeDeclare; 406 (PRECONDITION-FAILED) with message \"PRECONDITION_FAILED - inequivalent arg 'alternate-exchange' for exchange 'orders'\"",
      ),
      'declaring',
    );
    assert.equal(error.code, 'HERALD_CONFIG');
    assert.equal(error.permanent, true);
    assert.deepEqual(error.details, { option: 'partitions' });
  });

  it('maps other inequivalent declarations to HERALD_CONFIG', () => {
    const error = toHeraldError(
      amqpError(406, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'q'"),
      'declaring',
    );
    assert.equal(error.code, 'HERALD_CONFIG');
  });

  it('maps refused credentials to a permanent HERALD_TRANSPORT', () => {
    const error = toHeraldError(
      new Error(
        'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"',
      ),
      'connecting',
    );
    assert.equal(error.code, 'HERALD_TRANSPORT');
    assert.equal(error.permanent, true);
  });

  it('maps lost connections and channels to a retryable HERALD_TRANSPORT with the cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), { code: 'ECONNREFUSED' });
    const error = toHeraldError(cause, 'connecting');
    assert.equal(error.code, 'HERALD_TRANSPORT');
    assert.equal(error.permanent, false);
    assert.equal(error.cause, cause);
    assert.equal(toHeraldError(new Error('channel closed'), 'publishing').code, 'HERALD_TRANSPORT');
    assert.equal(toHeraldError(amqpError(404, 'NOT_FOUND - no queue'), 'replaying').code, 'HERALD_TRANSPORT');
  });

  it('passes Herald errors through', () => {
    const original = new HeraldError('HERALD_CLOSED', 'closed');
    assert.equal(toHeraldError(original, 'x'), original);
  });
});
