import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { describeError, tracingActive } from '@herald/core';

/** What {@link startServerSpan} reads of an incoming HTTP request (Node's `IncomingMessage` and Fastify's request fit). */
export interface IncomingRequestInfo {
  readonly method: string;
  /** The path and query as received. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The matched route template (`/orders/:id`): low cardinality, it names the span. */
  readonly route?: string;
}

/** A SERVER span for one HTTP request. */
export interface ServerSpan {
  readonly span: Span;
  /** The context holding the span, to run the request's work in. */
  readonly context: Context;
  /** Runs `fn` with the span active: the events it publishes or writes to an outbox join the request's trace. */
  run<T>(fn: () => T): T;
  /** Names the span after the matched route, once known. */
  setRoute(route: string): void;
  /** Ends the span with the response status; 5xx (or `error`) marks it failed. */
  end(statusCode: number, error?: unknown): void;
}

const NOOP_SPAN = trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 });

/**
 * Starts the root span of an incoming request, following the HTTP semantic conventions (`POST /orders`, kind
 * SERVER, `http.request.method`, `url.path`, `http.route`, `http.response.status_code`): it continues the caller's
 * trace when the request carries one (W3C `traceparent`, or X-Ray's header when that propagator is selected),
 * else starts a new trace. Without an OpenTelemetry SDK it costs nothing and `run` just calls `fn`.
 */
export function startServerSpan(request: IncomingRequestInfo): ServerSpan {
  if (!tracingActive()) {
    return {
      span: NOOP_SPAN,
      context: context.active(),
      run: (fn) => fn(),
      setRoute: () => undefined,
      end: () => undefined,
    };
  }
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const method = request.method.toUpperCase();
  const queryAt = request.url.indexOf('?');
  const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const userAgent = request.headers['user-agent'];
  const span = trace.getTracer('@herald/telemetry').startSpan(
    request.route === undefined ? method : `${method} ${request.route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.path': path,
        'url.scheme': 'http',
        ...(request.route === undefined ? {} : { 'http.route': request.route }),
        ...(typeof userAgent === 'string' ? { 'user_agent.original': userAgent } : {}),
      },
    },
    parent,
  );
  const spanContext = trace.setSpan(parent, span);
  let ended = false;
  return {
    span,
    context: spanContext,
    run: (fn) => context.with(spanContext, fn),
    setRoute(route) {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    },
    end(statusCode, error) {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500 || error !== undefined) {
        const info = error === undefined ? undefined : describeError(error);
        span.setAttribute('error.type', info?.code ?? info?.name ?? String(statusCode));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          ...(info === undefined ? {} : { message: info.message }),
        });
      }
      span.end();
    },
  };
}

/** What {@link httpTracingHooks} reads of a request: Fastify's request fits. */
export interface HookRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Fastify's matched route (`routeOptions.url`, the template). */
  readonly routeOptions?: { readonly url?: string | undefined };
}

/** Request hooks (Fastify's `onRequest`/`preHandler`/`onResponse` signatures) giving each request a root span. */
export interface HttpTracingHooks {
  /** Starts the request's SERVER span, before the body is parsed. */
  onRequest(request: HookRequest, reply: unknown, done: () => void): void;
  /** Runs the rest of the request (the route handler) with the span active. */
  preHandler(request: HookRequest, reply: unknown, done: () => void): void;
  /** Ends the span with the response status. */
  onResponse(request: HookRequest, reply: { readonly statusCode: number }, done: () => void): void;
}

/** Options of {@link httpTracingHooks}. */
export interface HttpTracingOptions {
  /** Requests to leave untraced, by path. Default: `/health…` and `/metrics` (probes and scrapes). */
  readonly ignore?: (path: string) => boolean;
}

const UNTRACED = (path: string): boolean => path.startsWith('/health') || path.startsWith('/metrics');

/**
 * Hooks that make every HTTP request a root span ({@link startServerSpan}) whose context is active in its route
 * handler, so the events it writes to the outbox join the request's trace. With Fastify:
 * `app.addHook('onRequest', hooks.onRequest)`, the same for `preHandler` and `onResponse`.
 */
export function httpTracingHooks(options: HttpTracingOptions = {}): HttpTracingHooks {
  const ignore = options.ignore ?? UNTRACED;
  const spans = new WeakMap<HookRequest, ServerSpan>();
  return {
    onRequest(request, _reply, done) {
      const queryAt = request.url.indexOf('?');
      if (ignore(queryAt < 0 ? request.url : request.url.slice(0, queryAt))) {
        done();
        return;
      }
      const route = request.routeOptions?.url;
      const span = startServerSpan({
        method: request.method,
        url: request.url,
        headers: request.headers,
        ...(route === undefined ? {} : { route }),
      });
      spans.set(request, span);
      span.run(done);
    },
    preHandler(request, _reply, done) {
      const span = spans.get(request);
      if (span === undefined) done();
      else span.run(done);
    },
    onResponse(request, reply, done) {
      spans.get(request)?.end(reply.statusCode);
      spans.delete(request);
      done();
    },
  };
}
