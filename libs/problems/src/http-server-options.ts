import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from './problem';
import { problemDocument } from './problem-details.filter';

/** A caller's `X-Request-Id` is kept when it has this shape; anything else gets an id of ours. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFor(request: Pick<IncomingMessage, 'headers'>): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Node's HTTP parser refuses a request before Fastify sees it (a NUL or other
 * control character in a header, a malformed request line). The caller still
 * gets a problem, as for every other error; the connection is then closed,
 * since the parser cannot tell where the next request would start.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const detail = tooLarge ? 'the request headers are too large' : 'the request could not be parsed: a header or the request line holds characters HTTP does not allow';
  const body = JSON.stringify(problemDocument(Problem.refusedByServer(status, detail, { errors: [{ field: 'header', message: 'is not valid HTTP' }] })));
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Errors Fastify answers before routing (a path that is not valid percent-encoding, a path parameter too long), as problems too. */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const invalid = Problem.invalid([{ field: 'path', message: 'is not a valid URL path' }]);
  const problem =
    error.statusCode && error.statusCode < 500
      ? Problem.refusedByServer(error.statusCode, invalid.detail, invalid.extensions)
      : new Problem('internal', 'an internal error occurred; quote the requestId when reporting it');
  void reply.status(problem.status).header('content-type', 'application/problem+json').send(problemDocument(problem, request.url, request.id));
}

/** Fastify options both apps share: request ids, and parser and routing errors as problems. */
export const problemAwareServerOptions = {
  requestIdHeader: false as const,
  genReqId: requestIdFor,
  clientErrorHandler: answerClientError,
  frameworkErrors: answerFrameworkError,
};
