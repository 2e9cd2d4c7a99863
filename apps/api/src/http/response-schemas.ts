import { z } from 'zod';

/**
 * The bodies the api answers with are zod schemas, each feature's beside it;
 * this registry is where the OpenAPI document takes them from. Each feature
 * ties its schemas to the TypeScript types its code returns with `Returns`, so
 * the two cannot drift apart silently; the contract test checks real answers
 * against the document.
 */

/** Named schemas: each becomes `components.schemas.<id>`, and a `$ref` wherever another schema holds it. */
export const responseSchemas = z.registry<{ id: string; description: string }>();
export const named = <S extends z.ZodType>(schema: S, id: string, description: string): S => {
  responseSchemas.add(schema, { id, description });
  return schema;
};

/** True only when what the code returns is what the schema says (checked by `npm run typecheck`). */
export type Returns<Code, Schema extends z.ZodType> = [Code] extends [z.output<Schema>] ? true : never;

export const instant = z.iso.datetime({ offset: true });
export const version = z.number().int().nonnegative().describe("The timeline's version: the number of accepted changes");
export const revision = z.number().int().positive().describe("The event's revision: 1 when recorded, one more per revision or retraction");
