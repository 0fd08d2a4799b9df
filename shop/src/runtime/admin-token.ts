import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem.ts';

/**
 * Guards a service's `/admin/*` routes as the console guards its admin actions: when `HERALD_CONSOLE_TOKEN` is set
 * (`npm start` hands it to every service, and the console forwards it), a request must carry
 * `Authorization: Bearer <token>`; otherwise it is answered with a 401 problem. Without a token the route is open,
 * which is safe only because the shop's services listen on loopback (`HOST`). A `preHandler`.
 */
export function adminTokenGuard(env: NodeJS.ProcessEnv = process.env) {
  const token = env.HERALD_CONSOLE_TOKEN || undefined;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (token === undefined) return;
    const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      await sendProblem(reply, {
        title: 'Unauthorized',
        status: 401,
        detail: 'Admin routes need the console token (HERALD_CONSOLE_TOKEN) as a Bearer token',
        instance: request.url,
      });
  };
}
