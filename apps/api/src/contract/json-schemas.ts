import { createTimelineSchema, recordEventSchema, redactSchema, retractEventSchema, reviseEventSchema } from '@timeline/domain';
import { COMMAND_SCHEMA_VERSION } from '@timeline/command-log';
import { CHANGE_DATA_SCHEMAS, CHANGE_EVENT_TYPE_LIST, dataSchemaUrl, type ChangeEventType } from '@timeline/change-events';
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema (draft-07, which AsyncAPI schemas build on) from our zod schemas.
 * `open`: published data never forbids unknown properties, so that adding a
 * field stays backward compatible for subscribers that validate.
 */
function fromZod(schema: z.ZodType, io: 'input' | 'output', open: boolean): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    io,
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      if (open && jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** The `data` of one change type, as served at its `ce_dataschema` URL. */
export function changeDataJsonSchema(type: ChangeEventType, baseUrl: string): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: dataSchemaUrl(baseUrl, type),
    title: type,
    ...fromZod(CHANGE_DATA_SCHEMAS[type], 'output', true),
  };
}

export function isChangeEventType(name: string): name is ChangeEventType {
  return (CHANGE_EVENT_TYPE_LIST as string[]).includes(name);
}

/** Commands of timeline.commands at the current schema version; the projector rejects unknown fields. */
export function commandJsonSchemas(): Record<string, JsonSchema> {
  const schemas = {
    CreateTimeline: createTimelineSchema,
    RecordEvent: recordEventSchema,
    ReviseEvent: reviseEventSchema,
    RetractEvent: retractEventSchema,
    Redact: redactSchema,
  };
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [
      name,
      { ...fromZod(schema, 'input', false), description: `${name}, command schema version ${COMMAND_SCHEMA_VERSION}` },
    ]),
  );
}
