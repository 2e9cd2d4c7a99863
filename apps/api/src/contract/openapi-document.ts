import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { PROBLEM_TYPES, type ProblemCode } from '@timeline/problems';
import { COMMAND_OPERATIONS } from '../write-path/write-path.operations';
import { EVENT_SEARCH_OPERATIONS } from '../event-search/event-search.operations';
import { EVENT_OPERATIONS } from '../events/events.operations';
import { HEALTH_OPERATIONS } from '../health/health.operations';
import { MEDIA, TAGS, type ApiOperation, type HeaderParameter, type QueryParameters, type ResponseHeader, type ResponseSpec } from '../http/api-operation';
import { PATH_PARAMETER_DESCRIPTIONS, pathParamSchemas, type PathParamName } from '../http/path-params';
import { responseSchemas } from '../http/response-schemas';
import { OPS_OPERATIONS } from '../ops/ops.operations';
import { REDACTION_OPERATIONS } from '../redactions/redactions.operations';
import { STREAM_OPERATIONS } from '../stream/stream.operations';
import { TIMELINE_OPERATIONS } from '../timelines/timelines.operations';
import { CONTRACT_OPERATIONS } from './contract.operations';
import { PROBLEM_CODES, problemType } from './problem-schema';

export type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> };

const schemaRef = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const TARGET = 'draft-2020-12';

/** Every operation the api serves, each described by the feature that serves it. */
const API_OPERATIONS: ApiOperation[] = [
  ...TIMELINE_OPERATIONS,
  ...EVENT_SEARCH_OPERATIONS,
  ...EVENT_OPERATIONS,
  ...COMMAND_OPERATIONS,
  ...HEALTH_OPERATIONS,
  ...STREAM_OPERATIONS,
  ...CONTRACT_OPERATIONS,
  ...OPS_OPERATIONS,
  ...REDACTION_OPERATIONS,
];

/**
 * The OpenAPI 3.1 document of the HTTP api, built from the operations of the
 * features and their zod schemas: requests as their input (what a caller may
 * send: defaults make a field optional), answers as their output.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  const requestBodies = new RequestBodies();
  const headerParameters = new Components<HeaderParameter>('request header');
  const responseHeaders = new Components<ResponseHeader>('response header');
  const paths: OpenApiDocument['paths'] = {};
  for (const operation of API_OPERATIONS) {
    paths[operation.path] ??= {};
    if (paths[operation.path][operation.method]) throw new Error(`${operation.method} ${operation.path} is described twice`);
    paths[operation.path][operation.method] = operationObject(operation, requestBodies);
    headerParameters.add(operation.headers);
    for (const response of Object.values(operation.responses)) responseHeaders.add(response.headers);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Timeline service',
      version: '1.0.0',
      summary: 'Event-sourced historical timelines: partial dates, known time, revisions with reasons.',
      description: INFO_DESCRIPTION,
      contact: { name: 'Timeline service maintainers' },
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [{ url: '/', description: 'This service' }],
    tags: TAGS.map((tag) => ({ ...tag })),
    paths,
    components: {
      schemas: { ...componentSchemas(responseSchemas, 'output'), ...requestBodies.schemas() },
      parameters: headerParameters.map((header) => ({
        name: header.name,
        in: 'header',
        required: false,
        description: header.description,
        schema: jsonSchema(header.schema, 'input'),
      })),
      headers: responseHeaders.map((header) => ({ description: header.description, required: header.required, schema: jsonSchema(header.schema, 'output') })),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT from the identity provider AUTH_JWKS_URL names (or signed by the key AUTH_PUBLIC_KEY names), with `iss` AUTH_ISSUER, `aud` AUTH_AUDIENCE, ' +
            'and `scope` (space-separated) holding `timelines:read`, `timelines:write` or `ops`; an optional `timelines` array narrows the timeline scopes to those timelines.',
        },
      },
    },
  };
}

const INFO_DESCRIPTION = [
  'Historical timelines with two kinds of time: **valid time** (when something happened in the world, as a partial date ' +
    'such as `2023`, `2023-07` or `2023-07-12`, or a range of two) and **known time** (when the service learned it). ' +
    'Every write is a command appended to a Kafka log and decided once by the projector; a write answers with the decision, ' +
    'or `202` with the command to ask about when the decision takes longer than the wait bound.',
  '',
  'Errors are problem details (RFC 9457, `application/problem+json`) with the `requestId` of our logs; a `400` names every bad ' +
    'field in `errors[]`, and a rejected command carries its `commandId`. Problem types (`type` is `/problems/<code>`):',
  '',
  '| type | status | title |',
  '| --- | --- | --- |',
  ...PROBLEM_CODES.map((code) => `| \`${problemType(code)}\` | ${PROBLEM_TYPES[code].status} | ${PROBLEM_TYPES[code].title} |`),
  '',
  "A path the api does not serve is a `404` `/problems/not-found`. A caller's `X-Request-Id` header is kept as the request id.",
].join('\n');

function operationObject(operation: ApiOperation, requestBodies: RequestBodies): Record<string, unknown> {
  const parameters = [
    ...pathParameters(operation),
    ...(operation.query ? queryParameters(operation.query) : []),
    ...Object.keys(operation.headers ?? {}).map((key) => ({ $ref: `#/components/parameters/${key}` })),
  ];
  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    description: operation.description,
    ...(parameters.length ? { parameters } : {}),
    security: operation.access === 'public' ? [] : [{ bearerAuth: [operation.access] }],
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            description: operation.body.description,
            content: {
              [MEDIA.json]: {
                schema: requestBodies.ref(operation.body.schema, operation.operationId),
                ...(operation.body.example ? { example: operation.body.example } : {}),
              },
            },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(Object.entries(operation.responses).map(([status, spec]) => [status, responseObject(spec)])),
      ...problemResponses(operation),
    },
  };
}

function pathParameters(operation: ApiOperation) {
  return [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const own = operation.pathParams?.[name];
    const shared = pathParamSchemas[name as PathParamName];
    if (!own && !shared) throw new Error(`${operation.operationId}: no schema for path parameter ${name}`);
    return {
      name,
      in: 'path',
      required: true,
      description: own?.description ?? PATH_PARAMETER_DESCRIPTIONS[name as PathParamName],
      schema: jsonSchema(own?.schema ?? shared, 'input'),
    };
  });
}

/** Each property of a query schema as a parameter; `x` or `[x, ...]` (a repeatable parameter) as an exploded array. */
function queryParameters(query: QueryParameters) {
  const object = jsonSchema(query.schema, 'input') as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties).map(([name, schema]) => {
    const description = query.descriptions[name];
    if (!description) throw new Error(`query parameter ${name} has no description`);
    const repeatable = repeatableItems(schema);
    return {
      name,
      in: 'query',
      required: object.required?.includes(name) ?? false,
      description,
      ...(repeatable ? { schema: { type: 'array', items: repeatable }, style: 'form', explode: true } : { schema }),
    };
  });
}

function repeatableItems(schema: JsonSchema): JsonSchema | undefined {
  const options = schema.anyOf as JsonSchema[] | undefined;
  if (options?.length !== 2) return undefined;
  const [single, list] = options[0].type === 'array' ? [options[1], options[0]] : options;
  return list.type === 'array' && isDeepStrictEqual(list.items, single) ? single : undefined;
}

function responseObject(spec: ResponseSpec): Record<string, unknown> {
  return {
    description: spec.description,
    ...(spec.headers
      ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([key, header]) => [header.name ?? key, { $ref: `#/components/headers/${key}` }])) }
      : {}),
    ...(spec.content
      ? { content: Object.fromEntries(Object.entries(spec.content).map(([type, schema]) => [type, { schema: responseSchemaRef(schema) }])) }
      : {}),
  };
}

function responseSchemaRef(schema: z.ZodType): JsonSchema {
  const id = responseSchemas.get(schema)?.id;
  return id ? schemaRef(id) : jsonSchema(schema, 'output');
}

/** One response per status, listing its problem types, each with an example. */
function problemResponses(operation: ApiOperation): Record<string, unknown> {
  const byStatus = new Map<number, ProblemCode[]>();
  const accessProblems: ProblemCode[] = operation.access === 'public' ? [] : ['unauthorized', 'forbidden'];
  for (const code of new Set([...accessProblems, ...operation.problems])) {
    const { status } = PROBLEM_TYPES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      String(status),
      {
        description: codes.map((code) => `\`${problemType(code)}\`: ${PROBLEM_TYPES[code].title}`).join('; '),
        content: {
          [MEDIA.problem]: {
            schema: schemaRef('Problem'),
            examples: Object.fromEntries(codes.map((code) => [code, { summary: PROBLEM_TYPES[code].title, value: problemExample(code, operation) }])),
          },
        },
      },
    ]),
  );
}

const EXAMPLE_DETAIL: Partial<Record<ProblemCode, { detail: string; extensions?: Record<string, unknown> }>> = {
  'idempotency-key-reused': {
    detail: 'this Idempotency-Key was first used with another request',
    extensions: { commandId: '7d0f2b5e-3c1a-4f6e-9b2d-8a4c6e1f0a35' },
  },
  'version-conflict': { detail: 'timeline japan-nato is at version 7, not 6', extensions: { commandId: '7d0f2b5e-3c1a-4f6e-9b2d-8a4c6e1f0a35' } },
  unauthorized: { detail: 'this route needs a bearer token with scope timelines:read' },
  forbidden: { detail: 'the token does not have scope timelines:write', extensions: { scope: 'timelines:write' } },
  'log-unavailable': { detail: 'the command was not recorded; it is safe to retry', extensions: { retryable: true } },
  'not-ready': { detail: 'a dependency is not ready', extensions: { checks: { kafka: { status: 'down', message: 'no broker answers' } } } },
};

function problemExample(code: ProblemCode, operation: ApiOperation): Record<string, unknown> {
  const example = code === 'invalid-request' ? invalidRequestExample(operation) : EXAMPLE_DETAIL[code];
  return {
    type: problemType(code),
    title: PROBLEM_TYPES[code].title,
    status: PROBLEM_TYPES[code].status,
    detail: example?.detail ?? PROBLEM_TYPES[code].title,
    instance: operation.path.replace('{timelineId}', 'japan-nato').replace(/\{\w+\}/g, '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1003'),
    requestId: '3f1c9a52-8d47-4e0b-a6f2-51c7d9e3b804',
    ...example?.extensions,
  };
}

/** A plausible 400 of the operation, naming a field the way the api does. */
function invalidRequestExample(operation: ApiOperation) {
  const pathParam = /\{(\w+)\}/.exec(operation.path)?.[1];
  const [field, message] = operation.body
    ? [`body.${Object.keys((operation.body.schema as z.ZodObject).shape ?? { title: true })[0]}`, 'Invalid input']
    : operation.query
      ? ['query.limit', 'Too big: expected number to be <=500']
      : pathParam === 'timelineId'
        ? ['path.timelineId', 'must be a lowercase slug (a-z, 0-9 and single hyphens)']
        : [`path.${pathParam}`, 'Invalid UUID'];
  return { detail: `${field}: ${message}`, extensions: { errors: [{ field, message }] } };
}

/** Headers the operations name by a key: each key becomes one component, so it must name one header. */
class Components<T> {
  private readonly byKey = new Map<string, T>();

  constructor(private readonly kind: string) {}

  add(named: Record<string, T> = {}): void {
    for (const [key, value] of Object.entries(named)) {
      if ((this.byKey.get(key) ?? value) !== value) throw new Error(`${this.kind} ${key} names two different headers`);
      this.byKey.set(key, value);
    }
  }

  map(component: (value: T) => Record<string, unknown>): Record<string, Record<string, unknown>> {
    return Object.fromEntries([...this.byKey].map(([key, value]) => [key, component(value)]));
  }
}

/** Request bodies become named components `<OperationId>Request`. */
class RequestBodies {
  private readonly registry = z.registry<{ id: string }>();

  ref(schema: z.ZodType, operationId: string): JsonSchema {
    const id = `${operationId[0].toUpperCase()}${operationId.slice(1)}Request`;
    if (!this.registry.has(schema)) this.registry.add(schema, { id });
    return schemaRef(this.registry.get(schema)!.id);
  }

  schemas(): Record<string, JsonSchema> {
    return componentSchemas(this.registry, 'input');
  }
}

function componentSchemas(registry: z.core.$ZodRegistry<{ id?: string }>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, { target: TARGET, io, unrepresentable: 'any', uri: (id) => schemaRef(id).$ref });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, withoutMeta(schema as JsonSchema)]));
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return withoutMeta(z.toJSONSchema(schema, { target: TARGET, io, unrepresentable: 'any' }));
}

/** The document declares the dialect once; a component needs no `$schema` or `$id` of its own. */
function withoutMeta({ $schema: _schema, $id: _id, ...rest }: JsonSchema): JsonSchema {
  return rest;
}
