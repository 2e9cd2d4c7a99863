import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TimelineConfig } from '@timeline/config';
import { Problem, problemDocument } from '@timeline/problems';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiMetrics } from '../observability/api-metrics';
import { EventLoopPressure, sampleEventLoop, type ShedReason } from './event-loop-pressure';
import { RETRY_AFTER_SECONDS } from '../write-path/admission';

/**
 * Never shed: an orchestrator that sees `/health/live` fail restarts a process that is only busy, and
 * `/metrics` is how an operator sees the shedding. `/health/ready` keeps saying whether PostgreSQL and
 * Kafka answer: pressure comes and goes within a sample, far faster than readiness probes act on, and
 * taking every saturated instance out of the load balancer at once would refuse everything.
 */
const NEVER_SHED = new Set(['/health/live', '/health/ready', '/metrics']);

export function isNeverShed(route: string | undefined): boolean {
  return route !== undefined && NEVER_SHED.has(route);
}

/** The 503 of a shed request: nothing was done (a write was not appended), so it is safe to retry. */
export function shedProblem(reason: ShedReason, value: number, config: TimelineConfig['shedding']): Problem {
  const why: Record<ShedReason, string> = {
    event_loop_delay: `its event loop runs ${Math.round(value)} ms late, past SHED_MAX_EVENT_LOOP_DELAY_MS (${config.maxEventLoopDelayMs} ms)`,
    event_loop_utilization: `its event loop is busy ${(value * 100).toFixed(0)}% of the time, past SHED_MAX_EVENT_LOOP_UTILIZATION (${config.maxEventLoopUtilization})`,
  };
  return new Problem(
    'overloaded',
    `the api process is over capacity (${why[reason]}); nothing was done and it is safe to retry after Retry-After`,
    { retryable: true, recorded: false },
    { 'retry-after': String(RETRY_AFTER_SECONDS) },
  );
}

/**
 * Past capacity the api's own CPU saturates: requests wait in the kernel's accept queue and socket buffers
 * before admission (write-path/admission.ts) can count them. How long they wait there is how late the event
 * loop runs: a request that arrives while it is N ms late is read about N ms later. So while the loop runs
 * late (or busy) sample after sample (event-loop-pressure.ts), requests are refused as soon as Fastify has
 * parsed them, before the body, the token or any handler. A 503 costs a small fraction of a write, so the
 * process works its backlog off and keeps answering everyone quickly.
 */
export function registerLoadShedding(app: NestFastifyApplication, config: TimelineConfig['shedding'], metrics: ApiMetrics): void {
  const fastify = app.getHttpAdapter().getInstance();
  const refuse = (request: FastifyRequest, reply: FastifyReply, reason: ShedReason, value: number) => {
    metrics.requestLimited(reason);
    const problem = shedProblem(reason, value, config);
    return reply
      .status(problem.status)
      .headers(problem.headers)
      .header('content-type', 'application/problem+json')
      .send(problemDocument(problem, request.url, request.id));
  };

  const pressure = new EventLoopPressure(config);
  const sampler = sampleEventLoop(config.sampleIntervalMs, (sample) => pressure.record(sample));
  fastify.addHook('onClose', (_instance, done) => {
    sampler.stop();
    done();
  });

  // One line when shedding starts and one when it stops: what an operator reads next to the 503s' metric.
  const logger = new Logger('LoadShedding');
  let episode: { startedAt: number; refused: number } | null = null;
  fastify.addHook('onRequest', (request, reply, done) => {
    if (isNeverShed(request.routeOptions.url)) return done();
    const now = pressure.current();
    if (now) {
      if (!episode) logger.warn(`shedding load: ${shedProblem(now.reason, now.value, config).detail}`);
      episode ??= { startedAt: Date.now(), refused: 0 };
      episode.refused++;
      // A hook that replies does not call done: Fastify then runs no further hook and no handler.
      return void refuse(request, reply, now.reason, now.value);
    }
    if (episode) logger.warn(`shedding stopped: ${episode.refused} requests refused in ${Date.now() - episode.startedAt} ms`);
    episode = null;
    done();
  });
}
