import { buildOpenApiDocument } from './contract/openapi-document';

/**
 * An entry of the api besides main.ts: prints the OpenAPI document as GET /openapi.json serves it, without
 * starting the service. The OpenAPI lint and the client's type generator (scripts/openapi) read it here.
 */
process.stdout.write(`${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
