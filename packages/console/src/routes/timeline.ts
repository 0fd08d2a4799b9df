import { decodeData } from '@herald/cli';
import type { DeadLetter, Transport } from '@herald/core';
import type { FastifyInstance } from 'fastify';
import { DeadLetterSource } from '../dead-letter-source.ts';
import type { LiveEvents } from '../live-events.ts';
import type { TraceSource } from '../trace-source.ts';

function about(deadLetter: DeadLetter, subject: string): boolean {
  if (deadLetter.record.key === subject || deadLetter.record.attributes.subject === subject) return true;
  const data = decodeData(deadLetter) as { orderId?: unknown } | null;
  return typeof data === 'object' && data !== null && data.orderId === subject;
}

/**
 * An order's (or any key's) timeline: `GET /api/timeline/:subject` gives the events the console saw about it
 * (partition key, CloudEvents subject or `orderId` in the data) in the order they arrived, the dead letters still
 * waiting about it, and its trace (`TraceSource`: the local store's spans or a link out). `GET /api/traces/:id` gives
 * one trace.
 */
export function timelineRoutes(
  app: FastifyInstance,
  options: { live: LiveEvents; transport: Transport; groups: readonly string[]; traces: TraceSource },
): void {
  const { live, transport, traces } = options;
  const source =
    transport.deadLetters === undefined
      ? undefined
      : new DeadLetterSource(transport.deadLetters, options.groups);
  app.get<{ Params: { subject: string } }>('/api/timeline/:subject', async (request) => {
    const { subject } = request.params;
    const events = live.about(subject);
    const deadLetters =
      source === undefined
        ? []
        : (await source.all())
            .filter((deadLetter) => about(deadLetter, subject))
            .map((deadLetter) => ({
              id: deadLetter.id,
              group: deadLetter.group,
              topic: deadLetter.record.topic,
              type: deadLetter.record.attributes.type,
              deadLetteredAt: deadLetter.deadLetteredAt,
              error: deadLetter.failure.error.message,
            }));
    const traceId = events.find((event) => event.traceId !== undefined)?.traceId;
    return {
      subject,
      bufferedSince: live.oldestTime(),
      events,
      deadLetters,
      trace: traces.view(traceId),
    };
  });

  app.get<{ Params: { traceId: string } }>('/api/traces/:traceId', (request) =>
    traces.view(request.params.traceId),
  );
}
