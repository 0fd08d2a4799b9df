import type { DeadLetterFailure } from '@herald/core';

/** Where a record was first published: the identity of a delivery across its redeliveries. */
export interface Origin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** A stable string for an origin, used to recognise copies of one record. */
export function originKey(origin: Origin): string {
  return `${origin.topic}\u0000${origin.partition}\u0000${origin.offset}`;
}

/** Control values of a record in a group's retry topic. */
export interface RetryEnvelope {
  readonly group: string;
  readonly origin: Origin;
  /** The attempt number of the coming delivery. */
  readonly attempt: number;
  /** Epoch ms before which it must not be delivered. */
  readonly dueAt: number;
}

export function retryControl(envelope: RetryEnvelope): Record<string, string> {
  return {
    group: envelope.group,
    'origin-topic': envelope.origin.topic,
    'origin-partition': String(envelope.origin.partition),
    'origin-offset': envelope.origin.offset.toString(),
    attempt: String(envelope.attempt),
    'due-at': String(envelope.dueAt),
  };
}

function parseOrigin(control: Readonly<Record<string, string>>): Origin | undefined {
  const topic = control['origin-topic'];
  const partition = Number(control['origin-partition']);
  const offset = control['origin-offset'];
  if (topic === undefined || !Number.isInteger(partition) || partition < 0) return undefined;
  if (offset === undefined || !/^\d+$/.test(offset)) return undefined;
  return { topic, partition, offset: BigInt(offset) };
}

/**
 * Reads a retry record's control values; `undefined` when they are missing or malformed (a record written to
 * the retry topic by something else), which the consumer then delivers at once as attempt 1.
 */
export function parseRetryControl(control: Readonly<Record<string, string>>): RetryEnvelope | undefined {
  const origin = parseOrigin(control);
  const attempt = Number(control.attempt);
  const dueAt = Number(control['due-at']);
  if (origin === undefined || !Number.isInteger(attempt) || attempt < 1 || !Number.isFinite(dueAt)) {
    return undefined;
  }
  return { group: control.group ?? '', origin, attempt, dueAt };
}

/** Control values of a record in a group's dead-letter topic. */
export interface DeadLetterEnvelope {
  readonly group: string;
  readonly origin: Origin;
  readonly failure: DeadLetterFailure;
  readonly deadLetteredAt: string;
}

export function deadLetterControl(envelope: DeadLetterEnvelope): Record<string, string> {
  return {
    group: envelope.group,
    'origin-topic': envelope.origin.topic,
    'origin-partition': String(envelope.origin.partition),
    'origin-offset': envelope.origin.offset.toString(),
    failure: JSON.stringify(envelope.failure),
    'dead-lettered-at': envelope.deadLetteredAt,
  };
}

export function parseDeadLetterControl(
  control: Readonly<Record<string, string>>,
): DeadLetterEnvelope | undefined {
  const origin = parseOrigin(control);
  const raw = control.failure;
  if (origin === undefined || raw === undefined) return undefined;
  let failure: DeadLetterFailure;
  try {
    failure = JSON.parse(raw) as DeadLetterFailure;
  } catch {
    return undefined;
  }
  if (typeof failure !== 'object' || failure === null || typeof failure.error !== 'object') return undefined;
  return {
    group: control.group ?? '',
    origin,
    failure,
    deadLetteredAt: control['dead-lettered-at'] ?? new Date(0).toISOString(),
  };
}

/** What happened to a dead letter: a marker record in the dead-letter topic resolves an earlier entry. */
export type Resolution = 'replayed' | 'discarded';

export function resolutionControl(offset: bigint, resolution: Resolution): Record<string, string> {
  return { resolves: offset.toString(), resolution };
}

export function parseResolutionControl(
  control: Readonly<Record<string, string>>,
): { offset: bigint; resolution: Resolution } | undefined {
  const resolves = control.resolves;
  const resolution = control.resolution;
  if (resolves === undefined || !/^\d+$/.test(resolves)) return undefined;
  if (resolution !== 'replayed' && resolution !== 'discarded') return undefined;
  return { offset: BigInt(resolves), resolution };
}
