import { z } from 'zod';
import { MEDIA, type ApiOperation } from '../http/api-operation';
import { named } from '../http/response-schemas';

/**
 * The probes and metrics the api serves through @timeline/health and
 * @timeline/observability: the libraries are the projector's too, so the
 * api's document of them lives here.
 */

const healthCheck = z.looseObject({ status: z.enum(['up', 'down']) });
const healthSchema = named(
  z.strictObject({
    status: z.enum(['ok', 'error', 'shutting_down']),
    info: z.record(z.string(), healthCheck).optional(),
    error: z.record(z.string(), healthCheck).optional(),
    details: z.record(z.string(), healthCheck).optional(),
  }),
  'Health',
  'Terminus health check: each dependency `up` or `down`',
);

export const HEALTH_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/health/live',
    operationId: 'liveness',
    access: 'public',
    tag: 'Health',
    summary: 'Liveness',
    description: 'The process is up and serving HTTP.',
    responses: { 200: { description: 'Alive', content: { [MEDIA.json]: z.strictObject({ status: z.literal('ok') }) } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'readiness',
    access: 'public',
    tag: 'Health',
    summary: 'Readiness',
    description: 'Ready when PostgreSQL answers with every migration applied and Kafka answers.',
    responses: { 200: { description: 'Ready', content: { [MEDIA.json]: healthSchema } } },
    problems: ['not-ready', 'internal'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    access: 'ops',
    tag: 'Health',
    summary: 'Metrics',
    description: 'Prometheus metrics of the api: HTTP requests, command appends and decisions, process and runtime.',
    responses: { 200: { description: 'The Prometheus text exposition format', content: { 'text/plain': z.string() } } },
    problems: ['internal'],
  },
];
