import { ErrorCodes, HeraldError } from '@herald/core';

/** AMQP reply codes Herald tells apart. */
const ACCESS_REFUSED = 403;
const NOT_FOUND = 404;
const PRECONDITION_FAILED = 406;

function replyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number') return code;
  const match = /\b(\d{3}) \([A-Z-]+\)/.exec(error instanceof Error ? error.message : '');
  return match === null ? undefined : Number(match[1]);
}

/**
 * Maps an amqplib or socket error onto Herald's catalogue. Refused credentials and an inequivalent topology are
 * permanent (a retry meets the same refusal); everything else — refused connections, lost channels, a missing
 * queue, a nacked publish — is a retryable `HERALD_TRANSPORT`. `what` says what Herald was doing.
 */
export function toHeraldError(error: unknown, what: string): HeraldError {
  if (error instanceof HeraldError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = replyCode(error);
  if (code === PRECONDITION_FAILED) {
    const partitions = /inequivalent arg 'alternate-exchange'/.test(message);
    return new HeraldError(
      ErrorCodes.CONFIG,
      partitions
        ? `RabbitMQ refused ${what}: the topic was declared with another "partitions" count (${message})`
        : `RabbitMQ refused ${what}: an exchange or queue exists with other settings (${message})`,
      {
        cause: error,
        permanent: true,
        details: partitions ? { option: 'partitions' } : { option: 'queueType' },
      },
    );
  }
  if (code === ACCESS_REFUSED && /ACCESS.REFUSED|Handshake terminated/i.test(message)) {
    return new HeraldError(ErrorCodes.TRANSPORT, `RabbitMQ refused access while ${what}: ${message}`, {
      cause: error,
      permanent: /Handshake terminated|login/i.test(message),
    });
  }
  if (code === NOT_FOUND) {
    return new HeraldError(
      ErrorCodes.TRANSPORT,
      `RabbitMQ has no such exchange or queue (${what}): ${message}`,
      {
        cause: error,
      },
    );
  }
  return new HeraldError(ErrorCodes.TRANSPORT, `RabbitMQ failed while ${what}: ${message}`, { cause: error });
}

/** The error of an operation on a closed transport. */
export function closedError(what: string): HeraldError {
  return new HeraldError(ErrorCodes.CLOSED, `RabbitMQ transport is closed (${what})`);
}
