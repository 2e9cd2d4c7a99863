import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { ApiMetrics } from '../observability/api-metrics';
import { Problem } from '@timeline/problems';
import type { FastifyRequest } from 'fastify';
import { TIMELINEJS_MEDIA_TYPE } from '../event-search/timelinejs';
import { clientOf } from './client-identity';
import { TokenBuckets } from './token-buckets';

export type RateLimitCategory = 'writes' | 'queries';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Which bucket a request takes a token from, if any. Writes: every POST/PUT
 * under /v1. Expensive queries: those no single timeline's index range
 * answers: a text search (`q`), an actor across every timeline, a histogram
 * (it counts a whole timeline), and a TimelineJS export.
 */
export function rateLimitCategoryOf(request: {
  method: string;
  /** The route's pattern, as Fastify matched it: `/v1/timelines/:timelineId/events`. */
  route: string | undefined;
  query: Record<string, unknown>;
  accept: string | undefined;
}): RateLimitCategory | null {
  const { method, route = '', query } = request;
  if (!route.startsWith('/v1/')) return null;
  if (!READ_METHODS.has(method)) return 'writes';
  if (route.endsWith('/histogram')) return 'queries';
  if (route !== '/v1/events' && route !== '/v1/timelines/:timelineId/events') return null;
  const acrossTimelines = route === '/v1/events';
  const timelineJsExport = query.format === 'timelinejs' || (request.accept?.includes(TIMELINEJS_MEDIA_TYPE) ?? false);
  return query.q !== undefined || (acrossTimelines && query.actor !== undefined) || timelineJsExport ? 'queries' : null;
}

/**
 * Rate limits per client (RATE_LIMIT_*): past its bucket a request is answered
 * 429 `rate-limited` with Retry-After before its handler runs, so a refused
 * write is certainly not recorded. Separate from admission, which bounds the
 * whole process.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly buckets: Partial<Record<RateLimitCategory, TokenBuckets>> = {};

  constructor(
    config: TimelineConfig,
    private readonly metrics: ApiMetrics,
  ) {
    const { maxClients } = config.rateLimits;
    for (const category of ['writes', 'queries'] as const) {
      const { perSecond, burst } = config.rateLimits[category];
      if (perSecond > 0) this.buckets[category] = new TokenBuckets(perSecond, burst, maxClients);
    }
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const category = rateLimitCategoryOf({
      method: request.method,
      route: request.routeOptions.url,
      query: (request.query ?? {}) as Record<string, unknown>,
      accept: request.headers.accept,
    });
    const buckets = category && this.buckets[category];
    if (!buckets) return true;
    const retryAfterSeconds = buckets.take(clientOf(request), Date.now());
    if (retryAfterSeconds === 0) return true;
    this.metrics.requestLimited(category);
    const what = category === 'writes' ? 'writes' : 'expensive queries';
    throw new Problem(
      'rate-limited',
      `this client has made more ${what} than RATE_LIMIT_${category.toUpperCase()}_PER_SECOND allows; nothing was done, retry after Retry-After`,
      { retryable: true, recorded: false },
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}
