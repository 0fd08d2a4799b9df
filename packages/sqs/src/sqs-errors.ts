import { ErrorCodes, HeraldError } from '@herald/core';

/** AWS error names (`error.name` in SDK v3) the transport tells apart. */
const NOT_FOUND = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NotFound',
  'NotFoundException',
]);
const ACCESS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AuthorizationError',
  'AuthorizationErrorException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidSecurity',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
  'KMSAccessDeniedException',
]);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'KmsThrottled',
  'KMSThrottlingException',
  'OverLimit',
]);

/** The AWS error name of `error`, its HTTP status and whether AWS calls it the caller's fault. */
export function awsErrorInfo(error: unknown): { name: string; status?: number; clientFault: boolean } {
  const e = error as
    { name?: unknown; $metadata?: { httpStatusCode?: unknown }; $fault?: unknown } | undefined;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const status = typeof e?.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  return { name, ...(status === undefined ? {} : { status }), clientFault: e?.$fault === 'client' };
}

/** Whether `error` says the queue or topic does not exist. */
export function isNotFound(error: unknown): boolean {
  return NOT_FOUND.has(awsErrorInfo(error).name);
}

/** Whether `error` says the receipt handle no longer holds the message (its visibility ran out). */
export function isStaleReceipt(error: unknown): boolean {
  const { name } = awsErrorInfo(error);
  return (
    name === 'ReceiptHandleIsInvalid' || name === 'MessageNotInflight' || name === 'InvalidParameterValue'
  );
}

/**
 * Maps an AWS SDK error onto Herald's catalogue. During start-up (`startUp`: provisioning, checking resources)
 * refused credentials or permissions, a missing resource and a request AWS rejects are `HERALD_CONFIG`: the
 * deployment is wrong, and the message says what Herald was doing. Afterwards every failure is
 * `HERALD_TRANSPORT`, permanent when retrying the same call cannot help (refused access, a request AWS rejects),
 * retryable otherwise (throttling, AWS's own errors, the network). A `HeraldError` passes through unchanged.
 */
export function toHeraldError(error: unknown, what: string, startUp = false): HeraldError {
  if (error instanceof HeraldError) return error;
  const { name, status, clientFault } = awsErrorInfo(error);
  const message = error instanceof Error ? error.message : String(error);
  const details = { awsError: name, ...(status === undefined ? {} : { httpStatus: status }) };
  const access = ACCESS.has(name) || status === 403;
  const rejected = clientFault && !THROTTLED.has(name) && status !== 429;
  if (startUp && (access || NOT_FOUND.has(name) || rejected)) {
    const hint = access
      ? ' (check the credentials and the IAM permissions listed in docs/transports/sqs.md)'
      : NOT_FOUND.has(name)
        ? ' (does it exist in this account and region?)'
        : '';
    return new HeraldError(ErrorCodes.CONFIG, `SNS/SQS refused ${what}: ${name}: ${message}${hint}`, {
      cause: error,
      permanent: true,
      details,
    });
  }
  return new HeraldError(ErrorCodes.TRANSPORT, `SNS/SQS failed while ${what}: ${name}: ${message}`, {
    cause: error,
    permanent: access || (rejected && !NOT_FOUND.has(name)),
    details,
  });
}

/** The error of an operation on a closed transport. */
export function closedError(what: string): HeraldError {
  return new HeraldError(ErrorCodes.CLOSED, `SNS/SQS transport is closed (${what})`);
}
