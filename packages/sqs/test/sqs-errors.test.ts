import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError } from '@herald/core';
import { isNotFound, isStaleReceipt, toHeraldError } from '../src/sqs-errors.ts';

/** An error shaped like the AWS SDK v3's service exceptions. */
function awsError(name: string, status: number, fault: 'client' | 'server'): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
}

describe('toHeraldError', () => {
  it('makes refused access, missing resources and rejected requests HERALD_CONFIG at start-up', () => {
    for (const error of [
      awsError('AccessDenied', 403, 'client'),
      awsError('QueueDoesNotExist', 400, 'client'),
      awsError('InvalidParameterValue', 400, 'client'),
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    ]) {
      const mapped = toHeraldError(error, 'creating the queue', true);
      assert.equal(mapped.code, 'HERALD_CONFIG', error.name);
      assert.equal(mapped.permanent, true);
      assert.match(mapped.message, /creating the queue/);
      assert.equal(mapped.cause, error);
    }
  });

  it('keeps throttling, AWS faults and the network retryable HERALD_TRANSPORT, even at start-up', () => {
    for (const error of [
      awsError('ThrottlingException', 400, 'client'),
      awsError('RequestThrottled', 429, 'client'),
      awsError('InternalError', 500, 'server'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' }),
    ]) {
      const mapped = toHeraldError(error, 'receiving', true);
      assert.equal(mapped.code, 'HERALD_TRANSPORT', error.message);
      assert.equal(mapped.permanent, false, error.message);
    }
  });

  it('after start-up: refused access is permanent, a missing queue retryable', () => {
    assert.equal(toHeraldError(awsError('AccessDenied', 403, 'client'), 'x').permanent, true);
    const missing = toHeraldError(awsError('QueueDoesNotExist', 400, 'client'), 'x');
    assert.equal(missing.code, 'HERALD_TRANSPORT');
    assert.equal(missing.permanent, false);
    assert.deepEqual(missing.details, { awsError: 'QueueDoesNotExist', httpStatus: 400 });
  });

  it('passes a HeraldError through, and recognises missing queues and stale receipts', () => {
    const herald = new HeraldError('HERALD_CLOSED', 'closed');
    assert.equal(toHeraldError(herald, 'x'), herald);
    assert.ok(isNotFound(awsError('AWS.SimpleQueueService.NonExistentQueue', 400, 'client')));
    assert.ok(isNotFound(awsError('NotFoundException', 404, 'client')));
    assert.ok(isStaleReceipt(awsError('ReceiptHandleIsInvalid', 400, 'client')));
    assert.ok(!isStaleReceipt(awsError('InternalError', 500, 'server')));
  });
});
