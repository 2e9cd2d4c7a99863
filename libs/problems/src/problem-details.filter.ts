import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_TYPES, Problem } from './problem';

/**
 * Turns an error that another library knows (a lost database connection, say) into a problem, or
 * answers undefined when the error is not its own. Each app hands the filter the translators of the
 * libraries it uses, so this library depends on none of them.
 */
export type ProblemTranslator = (error: unknown) => Problem | undefined;

/**
 * The one exception filter: every error leaves as RFC 9457 problem details,
 * with the request id so a caller's report can be found in our logs. Nothing
 * internal (stack, SQL, broker messages) reaches the caller.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(private readonly translators: readonly ProblemTranslator[] = []) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const problem = toProblem(error, this.translators);
    // Load shed on purpose is counted (timeline_api_commands_refused_total), not logged with a stack per request.
    if (problem.status >= 500 && problem.code !== 'overloaded') {
      this.logger.error(`${request.method} ${request.url} failed [${request.id}]: ${(error as Error)?.stack ?? String(error)}`);
    }
    void reply
      .status(problem.status)
      .headers(problem.headers)
      .header('content-type', 'application/problem+json')
      .send(problemDocument(problem, request.url, request.id));
  }
}

/** The RFC 9457 document of a problem, as every error of both apps is answered. */
export function problemDocument(problem: Problem, instance?: string, requestId?: string) {
  return {
    type: `/problems/${problem.code}`,
    title: PROBLEM_TYPES[problem.code].title,
    status: problem.status,
    detail: problem.detail,
    instance,
    requestId,
    ...problem.extensions,
  };
}

/** Maps what can be thrown to a problem: ours as they are, other libraries' by their translators, the framework's by status. */
export function toProblem(error: unknown, translators: readonly ProblemTranslator[] = []): Problem {
  if (error instanceof Problem) return error;
  for (const translate of translators) {
    const problem = translate(error);
    if (problem) return problem;
  }
  const status = statusOf(error);
  if (status === 413) return new Problem('payload-too-large', 'the request body is over the size limit');
  if (status === 415) return new Problem('unsupported-media-type', 'send the body as application/json');
  if (status === 404) return new Problem('not-found', 'no such resource');
  if (status === 503 && error instanceof HttpException) {
    return new Problem('not-ready', 'a dependency is not ready', { checks: error.getResponse() });
  }
  if (status !== undefined && status >= 400 && status < 500) return Problem.refusedByServer(status, frameworkMessage(error));
  return new Problem('internal', 'an internal error occurred; quote the requestId when reporting it');
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function frameworkMessage(error: unknown): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    if (typeof response === 'object' && response && 'message' in response) return String(response.message);
    return error.message;
  }
  return (error as Error)?.message ?? 'bad request';
}
