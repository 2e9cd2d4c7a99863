import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { HttpResult } from './http-client';

type Json = Record<string, any>;
const DOCUMENT_ID = 'urn:timeline:openapi';
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

/** `/v1/events/{eventId}` → `v1~1events~1{eventId}` (RFC 6901). */
const pointer = (...parts: string[]) => parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Checks answers of the real service against an OpenAPI 3.1 document: status,
 * media type, body (JSON Schema 2020-12, with ajv) and required headers; a
 * problem's `type` must be one the operation lists for that status.
 */
export class OpenApiContract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; pattern: RegExp; staticParts: number }[];
  /** `operationId status` of every answer checked. */
  readonly seen = new Set<string>();

  constructor(readonly document: Json) {
    addFormats(this.ajv);
    this.ajv.addSchema({ ...document, $id: DOCUMENT_ID });
    this.templates = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
      staticParts: template.split('/').filter((part) => part && !part.startsWith('{')).length,
    }));
  }

  /** The documented operations as `METHOD /path/{param}`. */
  operations(): string[] {
    return Object.entries(this.document.paths as Json).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${path}`),
    );
  }

  operationIds(): string[] {
    return Object.values(this.document.paths as Json).flatMap((item) => METHODS.filter((method) => item[method]).map((method) => item[method].operationId));
  }

  /** What is wrong with this answer to `method url`, by the document; empty when it matches. */
  check(method: string, url: string, result: HttpResult): string[] {
    const path = new URL(url, 'http://service').pathname;
    const template = this.templateOf(path);
    const operation = template && this.document.paths[template][method.toLowerCase()];
    if (!template || !operation) return [`${method} ${path} is not in the document`];
    const where = `${method} ${template} → ${result.status}`;
    const status = String(result.status);
    const response = this.resolve(operation.responses[status] ?? operation.responses.default);
    if (!response) return [`${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`];
    this.seen.add(`${operation.operationId} ${status}`);

    const errors: string[] = [];
    for (const [name, header] of Object.entries<Json>(response.headers ?? {})) {
      const { required, schema } = this.resolve(header) ?? {};
      const value = result.headers.get(name);
      if (value === null) {
        if (required) errors.push(`${where}: header ${name} is missing`);
        continue;
      }
      errors.push(...this.validate(schema ?? {}, value).map((error) => `${where}: header ${name} ${error}`));
    }

    if (!response.content) return errors;
    const mediaType = (result.headers.get('content-type') ?? '').split(';')[0].trim();
    const media = response.content[mediaType];
    if (!media) return [...errors, `${where}: content-type ${mediaType || '(none)'} not documented (documented: ${Object.keys(response.content).join(', ')})`];
    if (!mediaType.endsWith('json')) return errors;
    const responseKey = operation.responses[status] ? status : 'default';
    const schemaRef = `${DOCUMENT_ID}#/${pointer('paths', template, method.toLowerCase(), 'responses', responseKey, 'content', mediaType, 'schema')}`;
    errors.push(...this.validate({ $ref: schemaRef }, result.body).map((error) => `${where}: body ${error}`));
    if (mediaType === 'application/problem+json' && media.examples && !(problemCode(result.body) in media.examples)) {
      errors.push(`${where}: problem type ${result.body?.type} is not listed for this status (listed: ${Object.keys(media.examples).join(', ')})`);
    }
    return errors;
  }

  /** Validates a value against a component schema (`Problem` for a path the api does not serve). */
  checkComponent(name: string, value: unknown): string[] {
    return this.validate({ $ref: `${DOCUMENT_ID}#/components/schemas/${name}` }, value);
  }

  /** The most specific template: `/docs/assets/{asset}` over a hypothetical `/docs/{page}`. */
  private templateOf(path: string): string | undefined {
    return this.templates.filter(({ pattern }) => pattern.test(path)).sort((a, b) => b.staticParts - a.staticParts)[0]?.template;
  }

  private resolve(object: Json | undefined): Json | undefined {
    if (!object?.$ref) return object;
    const parts = (object.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
    return this.resolve(parts.reduce<Json>((node, part) => node?.[part], this.document));
  }

  private validate(schema: Json, value: unknown): string[] {
    const key = JSON.stringify(schema);
    let validator = this.validators.get(key);
    if (!validator) {
      validator = this.ajv.compile(schema);
      this.validators.set(key, validator);
    }
    if (validator(value)) return [];
    return (validator.errors ?? []).map((error) => `${error.instancePath || '(root)'} ${error.message} ${JSON.stringify(error.params)}`);
  }
}

const problemCode = (body: unknown) => String((body as Json)?.type ?? '').replace(/^\/problems\//, '');
