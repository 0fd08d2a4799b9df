import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

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

/** The standard reason phrase of `status` (`'Error'` for an unknown code): the default `title` of a problem. */
export function titleOf(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/**
 * The one shape every error of the shop's HTTP servers takes: `type` (default `about:blank`), `title`, `status`,
 * `detail` and `instance` always present (`detail` defaults to the title, `instance` to `''` when unknown).
 */
export function problemDocument(
  problem: Problem,
): Required<Omit<Problem, 'errors'>> & Pick<Problem, 'errors'> {
  return {
    type: problem.type ?? 'about:blank',
    title: problem.title,
    status: problem.status,
    detail: problem.detail ?? problem.title,
    instance: problem.instance ?? '',
    ...(problem.errors === undefined ? {} : { errors: problem.errors }),
  };
}

/** Sends `problem` as `application/problem+json` (see {@link problemDocument}). */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problemDocument(problem));
}

/**
 * Writes `problem` as a whole HTTP/1.1 response straight to `socket` and closes it: for errors Node reports
 * before a request exists (`clientError`: malformed HTTP, headers too large, request timeout). Writes nothing
 * when the socket can no longer be written.
 */
export function writeProblemToSocket(socket: Socket, problem: Problem): void {
  if (socket.writable && !socket.destroyed) {
    const body = JSON.stringify(problemDocument(problem));
    socket.write(
      `HTTP/1.1 ${problem.status} ${titleOf(problem.status)}\r\n` +
        `Content-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** The field errors of a zod error, one per issue, with dotted paths. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** A 400 problem naming each bad field (`title` says what was invalid: the body by default). */
export function validationProblem(
  errors: readonly FieldError[],
  instance?: string,
  title = 'Invalid request body',
): Problem {
  return {
    title,
    status: 400,
    detail: errors.map((e) => (e.field === '' ? e.message : `${e.field}: ${e.message}`)).join('; '),
    errors,
    ...(instance === undefined ? {} : { instance }),
  };
}
