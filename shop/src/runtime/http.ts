import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { z } from 'zod';
import { httpTracingHooks } from '@herald/telemetry';
import type { Logger } from './logger.ts';

/** One invalid field of a request, as `errors[]` of a problem document. */
export interface FieldError {
  /** Dotted path of the field in the body (`items.0.quantity`); empty for the body itself. */
  readonly field: string;
  readonly message: string;
}

/** An RFC 9457 problem document. */
export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly FieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Sends `problem` as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({ type: 'about:blank', ...problem });
}

/** The field errors of a zod error, one per issue, with dotted paths. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** A 400 problem naming each bad field. */
export function validationProblem(errors: readonly FieldError[], instance?: string): Problem {
  return {
    title: 'Invalid request body',
    status: 400,
    detail: errors.map((e) => (e.field === '' ? e.message : `${e.field}: ${e.message}`)).join('; '),
    errors,
    ...(instance === undefined ? {} : { instance }),
  };
}

/**
 * A Fastify app whose every error is a problem document (bad JSON, wrong content type, unknown route included),
 * each request traced as a root span (`httpTracingHooks`), with `GET /health` answering `{ status, service, ...health() }` (503 when `status` is not `ok`).
 */
export function createHttpApp(options: {
  service: string;
  log: Logger;
  health: () => Promise<{ status: 'ok' | 'degraded' } & object>;
}): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  // Each request is the root span of its trace (a no-op without an OpenTelemetry SDK): the events its route
  // writes to the outbox, and everything they cause in other services, join it. Probes and scrapes are untraced.
  const tracing = httpTracingHooks();
  app.addHook('onRequest', (request, reply, done) => tracing.onRequest(request, reply, done));
  app.addHook('preHandler', (request, reply, done) => tracing.preHandler(request, reply, done));
  app.addHook('onResponse', (request, reply, done) => tracing.onResponse(request, reply, done));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500)
      options.log.error('request failed', { method: request.method, url: request.url, error });
    return sendProblem(reply, {
      title: TITLES[status] ?? 'Error',
      status,
      detail: status >= 500 ? 'The server failed to handle the request' : error.message,
      instance: request.url,
    });
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      title: 'Not Found',
      status: 404,
      detail: `No route ${request.method} ${request.url}`,
      instance: request.url,
    }),
  );
  app.get('/health', async (_request, reply) => {
    const health = await options.health();
    return reply.code(health.status === 'ok' ? 200 : 503).send({ ...health, service: options.service });
  });
  return app;
}
