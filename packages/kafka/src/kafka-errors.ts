import { ErrorCodes, HeraldError } from '@herald/core';

/** Kafka protocol error codes the consumer reacts to. */
export const KafkaErrorCodes = {
  OFFSET_OUT_OF_RANGE: 1,
  TOPIC_ALREADY_EXISTS: 36,
} as const;

interface KafkaLikeError {
  message?: unknown;
  code?: unknown;
  apiId?: unknown;
  apiCode?: unknown;
  serverErrorMessage?: unknown;
  errors?: unknown;
}

/** The protocol error names (`apiId`) inside a `@platformatic/kafka` error, outermost first. */
export function protocolErrorIds(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const e = error as KafkaLikeError;
  const ids = typeof e.apiId === 'string' ? [e.apiId] : [];
  if (Array.isArray(e.errors)) for (const inner of e.errors) ids.push(...protocolErrorIds(inner, depth + 1));
  return ids;
}

/** True when the error (or one inside it) is the Kafka protocol error `code`. */
export function hasProtocolError(error: unknown, code: number, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const e = error as KafkaLikeError;
  if (e.apiCode === code) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => hasProtocolError(inner, code, depth + 1));
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const ids = [...new Set(protocolErrorIds(error))];
  const inner =
    error instanceof AggregateError && ids.length === 0
      ? (error.errors as unknown[]).map((e) => (e instanceof Error ? e.message : String(e))).slice(0, 3)
      : [];
  const detail = [...ids, ...inner].join(', ');
  return detail.length > 0 ? `${error.message} (${detail})` : error.message;
}

/**
 * Wraps a failure of the Kafka client or broker as a retryable `HERALD_TRANSPORT` error naming the operation;
 * Herald errors pass through unchanged.
 */
export function transportError(operation: string, cause: unknown): HeraldError {
  if (cause instanceof HeraldError) return cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new HeraldError(ErrorCodes.TRANSPORT, `Kafka ${operation} failed: ${describe(cause)}`, {
    cause,
    details: {
      operation,
      ...(typeof code === 'string' ? { kafkaCode: code } : {}),
      protocolErrors: protocolErrorIds(cause),
    },
  });
}

/** The error for an operation on a closed transport. */
export function closedError(what: string): HeraldError {
  return new HeraldError(ErrorCodes.CLOSED, `Kafka transport is closed: cannot ${what}`);
}
