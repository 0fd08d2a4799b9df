/**
 * The one catalogue of Herald's error codes. Every error Herald throws carries one of these codes, so logs and
 * tests can grep for them. The codes are stable: once published, a code keeps its meaning.
 */
export const ErrorCodes = {
  /** An option passed to a factory is missing or not one of the accepted values. Thrown at start-up. */
  CONFIG: 'HERALD_CONFIG',
  /** An event's data failed its definition's schema. Permanent: retrying cannot help. */
  VALIDATION: 'HERALD_VALIDATION',
  /** A record could not be decoded into a CloudEvent (bad attributes or undecodable data). Permanent. */
  DECODE: 'HERALD_DECODE',
  /** The handler threw. Retryable unless the thrown error says otherwise. */
  HANDLER: 'HERALD_HANDLER',
  /** A handler did not finish within its timeout. Retryable. */
  TIMEOUT: 'HERALD_TIMEOUT',
  /** The transport or the broker failed (connection, publish not acknowledged). Retryable. */
  TRANSPORT: 'HERALD_TRANSPORT',
  /** An operation was attempted on a publisher, router or transport that is closed. */
  CLOSED: 'HERALD_CLOSED',
  /**
   * A consumer lost the lease of a delivery it was handling (its partition went to another member, its channel
   * closed, its visibility ran out): the transport redelivers the event, so this handling's outcome no longer
   * counts. The reason of the handler's aborted `signal`. Retryable: the redelivery runs it again.
   */
  LEASE_LOST: 'HERALD_LEASE_LOST',
  /** A transport was asked for something its declared capabilities do not include. */
  UNSUPPORTED: 'HERALD_UNSUPPORTED',
  /** A dead-lettered event id is not in the dead-letter queue. */
  DEAD_LETTER_NOT_FOUND: 'HERALD_DEAD_LETTER_NOT_FOUND',
  /** `HERALD_BROKER` (or a transport URL) names no known transport or is malformed. */
  BROKER_URL: 'HERALD_BROKER_URL',
  /**
   * An event's data version is newer than its definition's, or older with no upcaster path to it, or an upcaster
   * threw. Permanent: the event is dead-lettered (`unknown-version`, `upcast`) for replay after a deploy.
   */
  UNKNOWN_VERSION: 'HERALD_UNKNOWN_VERSION',
  /** A contract differs from its committed snapshot in a way that breaks old consumers or old events. */
  INCOMPATIBLE_CONTRACT: 'HERALD_INCOMPATIBLE_CONTRACT',
} as const;

/** One of the stable codes of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Options of {@link HeraldError}. */
export interface HeraldErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** True when retrying the same event cannot succeed (validation, poison messages). */
  permanent?: boolean;
  /** Structured details (the option name, the accepted values, the schema issues...). */
  details?: Record<string, unknown>;
}

/**
 * The error type Herald throws. `code` is stable; `permanent` tells the retry middleware to skip retries and the
 * dead-letter middleware to dead-letter at once.
 */
export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly permanent: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldError';
    this.code = code;
    this.permanent = options.permanent ?? false;
    this.details = options.details;
  }
}

/**
 * Marks an error thrown by a handler as permanent: retries are skipped and the event is dead-lettered at once.
 * Use it for poison messages whose handling can never succeed.
 */
export class PermanentError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** True when `error` says retrying cannot help (a {@link PermanentError} or a permanent {@link HeraldError}). */
export function isPermanent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true;
}

/** Builds a start-up configuration error naming the option and what it accepts. */
export function configError(option: string, expected: string, got: unknown): HeraldError {
  return new HeraldError(
    ErrorCodes.CONFIG,
    `Invalid option "${option}": expected ${expected}, got ${JSON.stringify(got) ?? String(got)}`,
    { permanent: true, details: { option, expected, got } },
  );
}

/** A plain, serialisable description of an error, as stored with dead-lettered events. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Describes any thrown value as an {@link ErrorInfo}. */
export function describeError(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { name: 'NonError', message: String(error) };
}

/**
 * The reason stored with a dead-lettered event, derived from its error: `validation`, `decode`,
 * `permanent-error`, else `max-attempts`.
 */
export function deadLetterReason(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === ErrorCodes.VALIDATION) return 'validation';
  if (code === ErrorCodes.DECODE) return 'decode';
  if (code === ErrorCodes.UNKNOWN_VERSION) {
    const reason = (error as { details?: { reason?: unknown } }).details?.reason;
    return reason === 'upcast' ? 'upcast' : 'unknown-version';
  }
  if (isPermanent(error)) return 'permanent-error';
  return 'max-attempts';
}
