import type { FastifyInstance } from 'fastify';
import type { EventFilter, LiveEvents, ObservedEvent } from '../live-events.ts';
import { matches } from '../live-events.ts';

/** How often an idle stream sends a comment, so proxies keep it open and a dead browser is noticed. */
const HEARTBEAT_MS = 15_000;

function filterOf(query: { type?: string; key?: string }): EventFilter {
  return { type: query.type, key: query.key };
}

/**
 * The live stream: `GET /api/events?type=&key=` (the newest buffered events, oldest first) and
 * `GET /api/events/stream?type=&key=`, server-sent events: the buffered events after `Last-Event-ID` (or the last
 * 100 on a first connection), then each new matching event as it arrives, as `event: herald` with the event as
 * JSON and its sequence number as the SSE id (so the browser's automatic reconnect misses nothing still buffered).
 */
export function eventRoutes(app: FastifyInstance, live: LiveEvents): void {
  app.get<{ Querystring: { type?: string; key?: string; limit?: string } }>('/api/events', (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit) || 200, 1), 1000);
    return { topics: live.topics, events: live.recent(filterOf(request.query), { limit }) };
  });

  app.get<{ Querystring: { type?: string; key?: string } }>('/api/events/stream', (request, reply) => {
    const filter = filterOf(request.query);
    const lastId = Number(request.headers['last-event-id']);
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: ObservedEvent) => {
      out.write(`id: ${event.seq}\nevent: herald\ndata: ${JSON.stringify(event)}\n\n`);
    };
    out.write('retry: 2000\n\n');
    const backlog =
      Number.isInteger(lastId) && lastId > 0 ? { afterSeq: lastId, limit: 1000 } : { limit: 100 };
    for (const event of live.recent(filter, backlog)) send(event);
    const stop = live.listen((event) => {
      if (matches(event, filter)) send(event);
    });
    const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const end = () => {
      clearInterval(heartbeat);
      stop();
    };
    request.raw.once('close', end);
    out.once('error', end);
  });
}
