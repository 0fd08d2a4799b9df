import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { WatchedService } from '../config.ts';
import type { TopologySampler } from '../topology.ts';

/** A fault a service can switch on for demonstrations and tests, as its `GET /admin/faults` lists it. */
export interface FaultToggle {
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
}

const TIMEOUT_MS = 3000;

/**
 * The topology (`GET /api/topology`, sampled on request: rates are per second since the previous request) and the
 * watched services' fault toggles: `GET /api/services/:name/faults` reads the service's `GET /admin/faults` (a
 * service without one has none), and the admin action `POST /api/services/:name/faults` `{ name, enabled }`
 * forwards to its `POST /admin/faults` with the console's token, so a guarded service accepts it.
 */
export function serviceRoutes(
  app: FastifyInstance,
  options: {
    services: readonly WatchedService[];
    topology: TopologySampler;
    admin: preHandlerAsyncHookHandler;
    token: string | undefined;
  },
): void {
  const { services, topology, admin, token } = options;
  const find = (name: string) => services.find((service) => service.name === name);
  const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };

  app.get('/api/topology', () => topology.sample());

  app.get<{ Params: { name: string } }>('/api/services/:name/faults', async (request, reply) => {
    const service = find(request.params.name);
    if (service === undefined) return reply.code(404).send({ error: `No service ${request.params.name}` });
    let answer: { status: number; body: unknown };
    try {
      const response = await fetch(`${service.url}/admin/faults`, {
        headers: auth,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      answer = { status: response.status, body: response.status === 404 ? undefined : await response.json() };
    } catch (error) {
      return reply.code(502).send({ error: `${service.name}: ${String(error)}` });
    }
    // A service without fault switches has none.
    if (answer.status === 404) return { faults: [] };
    return reply.code(answer.status).send(answer.body);
  });

  app.post<{ Params: { name: string }; Body: { name?: unknown; enabled?: unknown } }>(
    '/api/services/:name/faults',
    { preHandler: admin },
    async (request, reply) => {
      const service = find(request.params.name);
      if (service === undefined) return reply.code(404).send({ error: `No service ${request.params.name}` });
      const { name, enabled } = request.body ?? {};
      if (typeof name !== 'string' || typeof enabled !== 'boolean')
        return reply.code(400).send({ error: 'Send {"name": "<fault>", "enabled": true|false}' });
      let answer: { status: number; body: unknown };
      try {
        const response = await fetch(`${service.url}/admin/faults`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ name, enabled }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        answer = { status: response.status, body: await response.json() };
      } catch (error) {
        return reply.code(502).send({ error: `${service.name}: ${String(error)}` });
      }
      return reply.code(answer.status).send(answer.body);
    },
  );
}
