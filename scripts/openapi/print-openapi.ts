import { buildOpenApiDocument } from '../../apps/api/src/contract/openapi-document';

/** Prints the OpenAPI document as GET /openapi.json serves it, without starting the service. */
process.stdout.write(`${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
