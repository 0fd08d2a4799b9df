import {
  decodeData,
  discardDeadLetters,
  editAndReplay,
  hasJsonData,
  replayCount,
  replayDeadLetters,
  type ReplayReport,
} from '@herald/cli';
import {
  describeError,
  ErrorCodes,
  HeraldError,
  type DeadLetter,
  type EventDefinition,
  type Transport,
} from '@herald/core';
import type { FastifyInstance, FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import { DeadLetterSource } from '../dead-letter-source.ts';

/** What the dead-letter routes need. */
export interface DeadLetterRoutesOptions {
  readonly transport: Transport;
  /** Consumer groups whose queues are read besides what the transport lists on its own. */
  readonly groups: readonly string[];
  readonly definitions: ReadonlyMap<string, EventDefinition>;
  readonly admin: preHandlerAsyncHookHandler;
  readonly maxReplays: number;
}

/** A dead letter for the page: the error, where it failed, and its data decoded. */
function view(deadLetter: DeadLetter, definitions: ReadonlyMap<string, EventDefinition>) {
  const { record, failure } = deadLetter;
  return {
    id: deadLetter.id,
    group: deadLetter.group,
    topic: record.topic,
    key: record.key,
    partition: deadLetter.partition,
    offset: deadLetter.offset,
    type: record.attributes.type,
    eventId: record.attributes.id,
    deadLetteredAt: deadLetter.deadLetteredAt,
    attempts: failure.attempts,
    reason: failure.reason,
    error: failure.error,
    replays: replayCount(deadLetter),
    attributes: record.attributes,
    data: decodeData(deadLetter),
    editable: hasJsonData(deadLetter),
    schemaKnown: definitions.has(record.attributes.type ?? ''),
  };
}

function problem(reply: FastifyReply, error: unknown) {
  const info = describeError(error);
  const status =
    info.code === ErrorCodes.DEAD_LETTER_NOT_FOUND
      ? 404
      : info.code === ErrorCodes.VALIDATION || info.code === ErrorCodes.CONFIG
        ? 422
        : info.code === ErrorCodes.UNSUPPORTED
          ? 409
          : 500;
  const details = error instanceof HeraldError ? error.details : undefined;
  return reply.code(status).send({ error: info.message, code: info.code, details });
}

/** The ids a bulk action names: `ids`, or every dead letter of the error group `errorGroup`. */
async function targets(source: DeadLetterSource, body: unknown): Promise<string[]> {
  const { ids, errorGroup } = (body ?? {}) as { ids?: unknown; errorGroup?: unknown };
  if (typeof errorGroup === 'string') return source.idsOf(errorGroup);
  if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) return ids;
  throw new HeraldError(ErrorCodes.CONFIG, 'Send {"ids": [...]} or {"errorGroup": "<key>"}', {
    permanent: true,
  });
}

/** The report for the page, without server stack traces of the operation's own failures (an unknown id). */
function summary(report: ReplayReport) {
  const failed = report.failed.map(({ id, error }) => ({ id, error: { ...error, stack: undefined } }));
  return { ...report, failed };
}

/**
 * The dead-letter workflow of the `herald` CLI over HTTP, through the CLI's own library functions (so the console
 * and the CLI group, guard and replay alike): `GET /api/dead-letters/groups` (grouped by error),
 * `GET /api/dead-letters?errorGroup=` (the members), `GET /api/dead-letters/:id`, and the admin actions
 * `POST /api/dead-letters/replay`, `POST /api/dead-letters/:id/edit` (the data validated against the event's schema,
 * then replayed) and `POST /api/dead-letters/discard`. On a transport without a dead-letter queue every route
 * answers 501 saying so.
 */
export function deadLetterRoutes(app: FastifyInstance, options: DeadLetterRoutesOptions): void {
  const { transport, definitions, admin, maxReplays } = options;
  const queue = transport.deadLetters;
  const source = queue === undefined ? undefined : new DeadLetterSource(queue, options.groups);
  const unsupported = (reply: FastifyReply) =>
    reply.code(501).send({
      error: `The ${transport.name} transport keeps no dead-letter queue`,
      code: ErrorCodes.UNSUPPORTED,
    });

  app.get('/api/dead-letters/groups', async (_request, reply) => {
    if (source === undefined) return unsupported(reply);
    return { groups: await source.errorGroups() };
  });

  app.get<{ Querystring: { errorGroup?: string } }>('/api/dead-letters', async (request, reply) => {
    if (source === undefined) return unsupported(reply);
    try {
      const all = await source.all();
      const wanted =
        request.query.errorGroup === undefined
          ? undefined
          : new Set(await source.idsOf(request.query.errorGroup));
      const members = wanted === undefined ? all : all.filter((deadLetter) => wanted.has(deadLetter.id));
      return { deadLetters: members.map((deadLetter) => view(deadLetter, definitions)) };
    } catch (error) {
      return problem(reply, error);
    }
  });

  app.get<{ Params: { id: string } }>('/api/dead-letters/:id', async (request, reply) => {
    if (queue === undefined) return unsupported(reply);
    const deadLetter = await queue.get(request.params.id);
    if (deadLetter === undefined)
      return reply.code(404).send({ error: `No dead letter with id ${request.params.id}` });
    return view(deadLetter, definitions);
  });

  app.post('/api/dead-letters/replay', { preHandler: admin }, async (request, reply) => {
    if (queue === undefined || source === undefined) return unsupported(reply);
    try {
      return summary(await replayDeadLetters(queue, await targets(source, request.body), { maxReplays }));
    } catch (error) {
      return problem(reply, error);
    }
  });

  app.post<{ Params: { id: string }; Body: { data?: unknown } }>(
    '/api/dead-letters/:id/edit',
    { preHandler: admin },
    async (request, reply) => {
      if (queue === undefined) return unsupported(reply);
      if (request.body === null || typeof request.body !== 'object' || !('data' in request.body))
        return reply.code(400).send({ error: 'Send {"data": <the edited data>}' });
      try {
        const deadLetter = await queue.get(request.params.id);
        const definition = definitions.get(deadLetter?.record.attributes.type ?? '');
        return summary(
          await editAndReplay(queue, request.params.id, request.body.data, { definition, maxReplays }),
        );
      } catch (error) {
        return problem(reply, error);
      }
    },
  );

  app.post('/api/dead-letters/discard', { preHandler: admin }, async (request, reply) => {
    if (queue === undefined || source === undefined) return unsupported(reply);
    try {
      return await discardDeadLetters(queue, await targets(source, request.body));
    } catch (error) {
      return problem(reply, error);
    }
  });
}
