import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { httpTracingHooks } from '@herald/telemetry';
import { httpTimeoutMs } from './http-timeouts.ts';
import type { Logger } from './logger.ts';
import { sendProblem, titleOf, writeProblemToSocket } from './problem.ts';
import { JsonBodyError, parseStrictJson } from './strict-json.ts';

export {
  fieldErrors,
  problemDocument,
  sendProblem,
  validationProblem,
  type FieldError,
  type Problem,
} from './problem.ts';

/** The longest path parameter (an order id) the router accepts; longer ones are a 400 problem. */
export const MAX_PARAM_LENGTH = 100;

const clientErrorProblem = (code: string | undefined) =>
  code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? { status: 408, detail: 'The request (headers and body) did not arrive in time' }
    : code === 'HPE_HEADER_OVERFLOW'
      ? { status: 431, detail: 'The request line and headers exceed 16 KB' }
      : { status: 400, detail: `Malformed HTTP request (${code ?? 'parse error'})` };

/**
 * A Fastify app whose every error is one problem document shape (`type`, `title`, `status`, `detail`,
 * `instance`): bad JSON, wrong content type, unknown route, bad percent-encoding, over-long ids, malformed HTTP,
 * headers over 16 KB and timeouts included. JSON bodies are parsed strictly (`parseStrictJson`: UTF-8 only, no
 * lone surrogates, NUL or `__proto__`/`constructor` keys); any other content type is a 415. A request must arrive
 * whole within `timeoutMs` (default `HERALD_HTTP_TIMEOUT_MS`, 5 s) or it is answered 408 and closed. Each
 * request is traced as a root span (`httpTracingHooks`), and `GET /health` answers `{ status, service, ...health() }`
 * (503 when `status` is not `ok`).
 */
export function createHttpApp(options: {
  service: string;
  log: Logger;
  health: () => Promise<{ status: 'ok' | 'degraded' } & object>;
  /** Overrides `HERALD_HTTP_TIMEOUT_MS`. */
  timeoutMs?: number;
}): FastifyInstance {
  const timeoutMs = options.timeoutMs ?? httpTimeoutMs();
  const app = Fastify({
    logger: false,
    bodyLimit: 256 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The whole request, body included, within timeoutMs (Node answers through clientError with a 408); an idle
    // socket is dropped after twice that. Node checks request deadlines every connectionsCheckingInterval.
    requestTimeout: timeoutMs,
    connectionTimeout: 2 * timeoutMs,
    http: {
      headersTimeout: timeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(timeoutMs / 4)),
    },
    clientErrorHandler(error: Error & { code?: string }, socket) {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const { status, detail } = clientErrorProblem(error.code);
      writeProblemToSocket(socket, { title: titleOf(status), status, detail });
    },
    frameworkErrors(error, request, reply) {
      const detail =
        error.code === 'FST_ERR_BAD_URL'
          ? 'The path is not valid percent-encoded UTF-8'
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? `A path parameter is longer than ${MAX_PARAM_LENGTH} characters`
            : error.message;
      void sendProblem(reply, { title: 'Bad Request', status: 400, detail, instance: request.url });
    },
  });
  // Only JSON is accepted, and strictly: text/plain (a Fastify default) becomes a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
      done(new JsonBodyError(`Charset "${charset}" is not supported; send UTF-8`, 415), undefined);
      return;
    }
    try {
      done(null, parseStrictJson(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
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
      title: error instanceof JsonBodyError && status === 400 ? 'Invalid JSON body' : titleOf(status),
      status,
      detail:
        status >= 500
          ? 'The server failed to handle the request'
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? `Content-Type "${request.headers['content-type'] ?? ''}" is not supported; send application/json`
            : error.message,
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
