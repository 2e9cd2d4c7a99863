import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServiceMetrics } from './metrics';
import { endRequestSpan, startRequestSpan } from './tracing';

const REQUEST_SPAN = Symbol('requestSpan');
type TracedRequest = FastifyRequest & { [REQUEST_SPAN]?: Span };

/** Probes and scrapes get no span of their own: they would drown the traces that matter. */
const UNTRACED_ROUTES = /^\/(health|metrics)(\/|$)/;

/**
 * Fastify hooks for every request: the duration histogram, labelled by the
 * route pattern (`/v1/timelines/:timelineId`, never the raw URL), and a
 * server span that is the active trace context while the request is handled.
 */
@Injectable()
export class HttpInstrumentation implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: ServiceMetrics,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (request: TracedRequest, _reply, done) => {
      const route = request.routeOptions.url;
      this.metrics.requestReceived(request.method, route);
      if (!route || UNTRACED_ROUTES.test(route)) return done();
      const { span, context: active } = startRequestSpan(`${request.method} ${route}`, request.headers, {
        'http.request.method': request.method,
        'http.route': route,
        'timeline.request_id': String(request.id),
      });
      request[REQUEST_SPAN] = span;
      // What runs for this request from here on sees the span as the active context.
      context.with(active, done);
    });
    fastify.addHook('onResponse', (request: TracedRequest, reply, done) => {
      this.metrics.observeHttpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1_000);
      const span = request[REQUEST_SPAN];
      if (span) endRequestSpan(span, reply.statusCode);
      done();
    });
  }
}
