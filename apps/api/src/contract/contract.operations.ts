import { CHANGE_EVENT_TYPE_LIST } from '@timeline/change-events';
import { z } from 'zod';
import { MEDIA, type ApiOperation } from '../http/api-operation';
import { DOCS_ASSET_NAMES } from './docs-page';

export const CONTRACT_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/asyncapi.json',
    operationId: 'asyncApiDocument',
    access: 'public',
    tag: 'Contract',
    summary: 'The AsyncAPI document',
    description: 'AsyncAPI 3 document of the Kafka topics (commands, accepted changes) and of the change stream.',
    responses: {
      200: { description: 'The document', content: { [MEDIA.json]: z.looseObject({ asyncapi: z.string(), channels: z.record(z.string(), z.unknown()) }) } },
    },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/schemas/{file}',
    operationId: 'changeDataSchema',
    access: 'public',
    tag: 'Contract',
    summary: 'The JSON Schema of a change type',
    description: 'The schema of the `data` of one CloudEvents type: the URL its `dataschema` attribute names.',
    pathParams: {
      file: {
        schema: z.enum(CHANGE_EVENT_TYPE_LIST.map((type) => `${type}.json`) as [string, ...string[]]),
        description: 'The CloudEvents type, then `.json`',
      },
    },
    responses: {
      200: { description: 'The JSON Schema (draft-07)', content: { 'application/schema+json': z.looseObject({ $schema: z.string(), $id: z.string() }) } },
    },
    problems: ['not-found', 'internal'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    access: 'public',
    tag: 'Contract',
    summary: 'This OpenAPI document',
    description: 'The OpenAPI 3.1 document of the HTTP api, generated from the schemas the api validates with.',
    responses: {
      200: {
        description: 'The document',
        content: { [MEDIA.json]: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) }) },
      },
    },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'apiDocsPage',
    access: 'public',
    tag: 'Contract',
    summary: 'Interactive api documentation',
    description: 'Swagger UI on this document, served from the service itself (no CDN).',
    responses: { 200: { description: 'The page', content: { [MEDIA.html]: z.string() } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/docs/assets/{asset}',
    operationId: 'apiDocsAsset',
    access: 'public',
    tag: 'Contract',
    summary: 'A script or style sheet of the documentation page',
    description: 'Files of the swagger-ui-dist package that the page loads.',
    pathParams: { asset: { schema: z.enum(DOCS_ASSET_NAMES), description: 'The file name' } },
    responses: {
      200: { description: 'The file', content: { 'text/css': z.string(), 'text/javascript': z.string(), 'image/png': z.string() } },
    },
    problems: ['not-found', 'internal'],
  },
];
