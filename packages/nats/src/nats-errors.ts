import { ErrorCodes, HeraldError, redactUrl } from '@herald/core';

/** JetStream API error codes the transport reacts to. */
export const JsCodes = {
  ConsumerNotFound: 10014,
  StreamNotFound: 10059,
  StreamNameInUse: 10058,
  ConsumerExists: 10148,
  ConsumerNameExists: 10013,
  NoMessageFound: 10037,
  WrongLastSequence: 10071,
} as const;

/** The JetStream API error code of `error`, if it is one. */
export function apiCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const fields = error as { name?: unknown; code?: unknown; apiError?: unknown };
  if (typeof fields.apiError !== 'function') return undefined;
  const code = (fields.apiError as () => { err_code?: unknown }).call(error).err_code;
  return typeof code === 'number' ? code : undefined;
}

const PERMANENT = new Set([
  'AuthorizationError',
  'PermissionViolationError',
  'UserAuthenticationExpiredError',
]);

/**
 * Wraps an error of the NATS client in a {@link HeraldError} `HERALD_TRANSPORT` saying what failed. Authorization
 * and permission errors are permanent (retrying cannot help); connection losses, timeouts and JetStream API errors
 * are not. A `HeraldError` passes through unchanged. The message masks any credentials of a server URL in it (the
 * client's own messages may quote the URL it was given).
 */
export function transportError(error: unknown, what: string): HeraldError {
  if (error instanceof HeraldError) return error;
  const name = error instanceof Error ? error.name : 'NonError';
  const message = error instanceof Error ? error.message : String(error);
  const code = apiCode(error);
  return new HeraldError(ErrorCodes.TRANSPORT, redactUrl(`NATS: ${what} failed: ${message}`), {
    cause: error,
    permanent: PERMANENT.has(name),
    details: { natsError: name, ...(code === undefined ? {} : { jetStreamCode: code }) },
  });
}

/** Runs `operation`, rethrowing any failure as {@link transportError}. */
export async function mapErrors<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw transportError(error, what);
  }
}
