import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The header the console's pages send the operator's token in. */
export const TOKEN_HEADER = 'authorization';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * A Fastify `preHandler` for admin actions (replay, edit, discard, fault toggles): with a token configured, the
 * request must carry `Authorization: Bearer <token>` (compared in constant time), else it is answered 401 and
 * nothing is done. Without a token (only allowed on a loopback host) every request passes. Cross-site requests are
 * refused either way: a browser page of another origin must not replay events through the operator's console.
 */
export function adminGuard(token: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const origin = request.headers.origin;
    if (origin !== undefined && hostOf(origin) !== request.headers.host) {
      await reply.code(403).send({ error: 'cross-origin admin requests are refused', origin });
      return;
    }
    if (token === undefined) return;
    const header = request.headers[TOKEN_HEADER] ?? '';
    const given = /^Bearer (.+)$/.exec(header)?.[1] ?? '';
    if (!sameSecret(given, token)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="herald-console"')
        .send({ error: 'this admin action needs the console token (HERALD_CONSOLE_TOKEN)' });
    }
  };
}
