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

/** How each refusal of Node's HTTP server is answered; `unparsable` is every other one. */
const CLIENT_ERRORS: Record<string, { status: number; reason: string; detail: string; field: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    detail: 'the request headers are too large',
    field: 'header',
    message: 'is not valid HTTP',
  },
  // HTTP_HEADERS_TIMEOUT_MS or HTTP_REQUEST_TIMEOUT_MS passed before the whole request arrived.
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    detail: 'the request was not received in time; the connection is closed',
    field: 'request',
    message: 'was not received in time',
  },
  unparsable: {
    status: 400,
    reason: 'Bad Request',
    detail: 'the request could not be parsed: a header or the request line holds characters HTTP does not allow',
    field: 'header',
    message: 'is not valid HTTP',
  },
};

/**
 * Node's HTTP parser refuses a request before Fastify sees it (a NUL or other
 * control character in a header, a malformed request line, a request not
 * received within the server's timeouts). The caller still gets a problem, as
 * for every other error; the connection is then closed, since the parser
 * cannot tell where the next request would start.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const { status, reason, detail, field, message } = CLIENT_ERRORS[error.code ?? ''] ?? CLIENT_ERRORS.unparsable;
  const body = JSON.stringify(problemDocument(Problem.refusedByServer(status, detail, { errors: [{ field, message }] })));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
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
  void reply
    .status(problem.status)
    .header('content-type', 'application/problem+json')
    .send(problemDocument(problem, request.url, request.id));
}

/** Fastify options both apps share: request ids, and parser and routing errors as problems. */
export const problemAwareServerOptions = {
  requestIdHeader: false as const,
  genReqId: requestIdFor,
  clientErrorHandler: answerClientError,
  frameworkErrors: answerFrameworkError,
};

/**
 * How long a client may take to send its request. Node cuts a connection whose
 * headers (or whole request) have not arrived in time with a 408, checking
 * every `checkIntervalMs`; both bounds end once the request is received, so a
 * long-lived response (an SSE stream) is not cut by them.
 */
export function requestTimeoutOptions(timeouts: { requestTimeoutMs: number; headersTimeoutMs: number; timeoutCheckIntervalMs: number }) {
  return {
    requestTimeout: timeouts.requestTimeoutMs,
    http: { headersTimeout: timeouts.headersTimeoutMs, connectionsCheckingInterval: timeouts.timeoutCheckIntervalMs },
  };
}
