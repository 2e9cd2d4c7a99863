import underPressure from '@fastify/under-pressure';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TimelineConfig } from '@timeline/config';
import { Problem, problemDocument } from '@timeline/problems';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiMetrics, RequestLimit } from '../observability/api-metrics';
import { RETRY_AFTER_SECONDS } from '../write-path/admission';

/** Why a request was shed: the label of `timeline_api_requests_limited_total{limit}`. */
export type ShedReason = Extract<RequestLimit, 'event_loop_delay' | 'event_loop_utilization'>;

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

/** What `@fastify/under-pressure` measured over its last sample. */
export interface EventLoopSample {
  /** Mean delay of the event loop, ms. */
  eventLoopDelay: number;
  /** Fraction of the time the event loop was busy. */
  eventLoopUtilized: number;
}

/** Whether the last sample is past a bound (a bound of 0 is off), and which. */
export function pressureIn(sample: EventLoopSample, config: TimelineConfig['shedding']): { reason: ShedReason; value: number } | null {
  if (config.maxEventLoopDelayMs > 0 && sample.eventLoopDelay > config.maxEventLoopDelayMs) return { reason: 'event_loop_delay', value: sample.eventLoopDelay };
  if (config.maxEventLoopUtilization > 0 && sample.eventLoopUtilized > config.maxEventLoopUtilization) {
    return { reason: 'event_loop_utilization', value: sample.eventLoopUtilized };
  }
  return null;
}

/**
 * Past capacity the api's own CPU saturates: requests wait in the kernel's accept queue and socket buffers
 * before admission (write-path/admission.ts) can count them. How long they wait there is how late the event
 * loop runs: a request that arrives while it is N ms late is read about N ms later. So while the loop ran late
 * (or busy) over `@fastify/under-pressure`'s last sample, requests are refused as soon as Fastify has parsed
 * them, before the body, the token or any handler. A 503 costs a small fraction of a write, so the process
 * works its backlog off and keeps answering everyone quickly.
 */
export async function registerLoadShedding(app: NestFastifyApplication, config: TimelineConfig['shedding'], metrics: ApiMetrics): Promise<void> {
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

  // The plugin samples the event loop (delay histogram, utilisation per interval). No bound is given to it, so
  // it refuses nothing itself (its 503 is not a problem document and it knows no route we must keep): the
  // hook below decides. `await` loads it now, before Nest adds its routes in init.
  await app.register(underPressure, { sampleInterval: config.sampleIntervalMs, eventLoopUtilizationMode: 'interval' });

  fastify.addHook('onRequest', (request, reply, done) => {
    const pressure = isNeverShed(request.routeOptions.url) ? null : pressureIn(fastify.memoryUsage(), config);
    // A hook that replies does not call done: Fastify then runs no further hook and no handler.
    if (pressure) return void refuse(request, reply, pressure.reason, pressure.value);
    done();
  });
}
