import { z } from 'zod';
import { MEDIA, type ApiOperation } from '../http/api-operation';
import { CONSISTENCY_TOKEN_PARAMETER } from '../http/consistency-token';
import { OPS_ASSET_NAMES } from './ops-assets';
import { opsStatusSchema } from './ops.schemas';

export const OPS_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/ops/status',
    operationId: 'opsStatus',
    access: 'ops',
    tag: 'Operations',
    summary: 'Operational status',
    description:
      'Projection lag per partition of timeline.commands (records: end offset − stored offset; seconds: now − Kafka time of the last decided record), ' +
      'throughput (decisions per second over the last minute), decisions of the last hour by outcome and rejection reason, the latest rejections, ' +
      'the relay backlog (outbox rows not yet published, age of the oldest), stream clients, the timelines, and the read replicas (in rotation or not, lag). ' +
      'Read fresh at most every half second; with a `Consistency-Token`, fresh and at least as new as that write.',
    headers: { ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: { 200: { description: 'The status', content: { [MEDIA.json]: opsStatusSchema } } },
    problems: ['internal', 'invalid-consistency-token'],
  },
  {
    method: 'get',
    path: '/ops',
    operationId: 'opsPage',
    access: 'public',
    tag: 'Operations',
    summary: 'The ops page',
    description:
      'A page for operators that polls `/ops/status`: lag with its trend, throughput, decisions, rejections, relay, stream, and a chosen timeline drawn with vis-timeline.',
    responses: { 200: { description: 'The page', content: { [MEDIA.html]: z.string() } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/ops/runbooks',
    operationId: 'opsRunbooks',
    access: 'public',
    tag: 'Operations',
    summary: 'The runbooks',
    description:
      "What to do when a partition fails or an alert fires (docs/runbooks.md as a page): one heading per alert, which the alerts' `runbook_url` and the ops page link to.",
    responses: { 200: { description: 'The page', content: { [MEDIA.html]: z.string() } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/ops/assets/{asset}',
    operationId: 'opsAsset',
    access: 'public',
    tag: 'Operations',
    summary: 'A script or style sheet of the ops page',
    description: "The page's own script and styles, and vis-timeline's standalone build, served from the service itself (no CDN).",
    pathParams: { asset: { schema: z.enum(OPS_ASSET_NAMES), description: 'The file name' } },
    responses: { 200: { description: 'The file', content: { 'text/css': z.string(), 'text/javascript': z.string() } } },
    problems: ['not-found', 'internal'],
  },
];
