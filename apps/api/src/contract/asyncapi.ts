import { COMMAND_SCHEMA_VERSION, EVENTS_MAX_MESSAGE_BYTES } from '@timeline/command-log';
import type { TimelineConfig } from '@timeline/config';
import { CHANGE_EVENT_TYPE_LIST, CHANGE_EVENT_TYPES, dataSchemaUrl, type ChangeEventType } from '@timeline/change-events';
import { changeDataJsonSchema, commandJsonSchemas, type JsonSchema } from './json-schemas';

const KAFKA_BINDING = '0.5.0';
const HTTP_BINDING = '0.3.0';
const TRACEPARENT = { type: 'string', pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$', description: 'W3C trace context' };
const TIMELINE_KEY = { type: 'string', description: 'The timeline id: a timeline keeps its order within one partition' };

const REDACTION_KEY = { type: 'string', description: '`redaction:<redactionId>`: a redaction is written to every partition, each record to its own' };

const ref = (path: string) => ({ $ref: path });
const messageName = (type: ChangeEventType) => (Object.entries(CHANGE_EVENT_TYPES).find(([, ceType]) => ceType === type) as [string, ChangeEventType])[0];

/**
 * The AsyncAPI 3 document of the service: timeline.commands (the system of
 * record), timeline.events (CloudEvents, Kafka binary mode) and GET /v1/stream
 * (the same CloudEvents, structured mode, over Server-Sent Events).
 */
export function asyncApiDocument(config: TimelineConfig): Record<string, unknown> {
  const base = new URL(config.publicBaseUrl);
  const changeMessages = Object.fromEntries(CHANGE_EVENT_TYPE_LIST.map((type) => [messageName(type), changeMessage(type, config)]));
  const commandMessages = Object.fromEntries(Object.entries(commandJsonSchemas()).map(([name, payload]) => [name, commandMessage(name, payload)]));
  const dataSchemas = Object.fromEntries(CHANGE_EVENT_TYPE_LIST.map((type) => [type, withoutMeta(changeDataJsonSchema(type, config.publicBaseUrl))]));

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Timeline service',
      version: '1.0.0',
      description:
        'An event-sourced service of historical timelines. Commands are appended to timeline.commands; accepted changes ' +
        'are published to timeline.events and streamed over HTTP as CloudEvents 1.0. Delivery is at least once: drop ' +
        'duplicates by CloudEvents id. Per timeline, changes arrive in the order they were decided.',
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: { host: config.kafka.brokers.join(','), protocol: 'kafka', description: 'Apache Kafka' },
      http: {
        host: base.host,
        protocol: base.protocol.replace(':', ''),
        ...(base.pathname !== '/' ? { pathname: base.pathname } : {}),
        description: 'The api',
      },
    },
    channels: {
      commands: {
        address: config.kafka.commandsTopic,
        title: 'Commands (system of record)',
        description:
          `Written by the api only. Header schema-version is ${COMMAND_SCHEMA_VERSION}; records without it are version 0 ` +
          '(RecordEvent.event and ReviseEvent.changes named valid time `occurredAt`) and are upcast when read. ' +
          'A Redact is written once to every partition (its key `redaction:<redactionId>` only labels it); see docs/redaction.md.',
        servers: [ref('#/servers/kafka')],
        messages: Object.fromEntries(Object.keys(commandMessages).map((name) => [name, ref(`#/components/messages/${name}`)])),
        bindings: { kafka: kafkaTopicBinding(config, { 'message.timestamp.type': 'LogAppendTime' }) },
      },
      events: {
        address: config.kafka.eventsTopic,
        title: 'Accepted changes',
        description: 'CloudEvents 1.0 in Kafka binary mode: attributes in ce_* headers, data in the value, key = timeline id.',
        servers: [ref('#/servers/kafka')],
        messages: Object.fromEntries(Object.keys(changeMessages).map((name) => [name, ref(`#/components/messages/${name}`)])),
        bindings: { kafka: kafkaTopicBinding(config, { 'max.message.bytes': EVENTS_MAX_MESSAGE_BYTES }) },
      },
      stream: {
        address: '/v1/stream',
        title: 'Accepted changes over Server-Sent Events',
        description:
          'text/event-stream. Each change is a message with `id:` its stream position and `data:` a structured-mode ' +
          'CloudEvent. Resume with Last-Event-ID (or ?after=); ?after=0 starts at the beginning, no position at now. ' +
          'Comment lines are heartbeats. A client that cannot keep up gets `event: overflow` and the stream ends; so does a ' +
          'stream whose token expires (`event: token-expired`, at the first heartbeat past it).',
        servers: [ref('#/servers/http')],
        messages: {
          change: ref('#/components/messages/StreamedChange'),
          overflow: ref('#/components/messages/StreamOverflow'),
          tokenExpired: ref('#/components/messages/StreamTokenExpired'),
        },
      },
    },
    operations: {
      receiveCommands: {
        action: 'receive',
        title: 'The projector decides each command in partition order',
        channel: ref('#/channels/commands'),
        messages: Object.keys(commandMessages).map((name) => ref(`#/channels/commands/messages/${name}`)),
      },
      publishChanges: {
        action: 'send',
        title: 'The relay publishes every accepted change',
        channel: ref('#/channels/events'),
        messages: Object.keys(changeMessages).map((name) => ref(`#/channels/events/messages/${name}`)),
      },
      streamChanges: {
        action: 'send',
        title: 'GET /v1/stream',
        channel: ref('#/channels/stream'),
        messages: [ref('#/channels/stream/messages/change'), ref('#/channels/stream/messages/overflow'), ref('#/channels/stream/messages/tokenExpired')],
        bindings: {
          http: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                after: { type: 'string', pattern: '^\\d+$', description: 'Resume after this stream position; 0 = from the beginning' },
                timelineId: { type: 'string', description: 'Only changes of this timeline' },
                type: { type: 'string', description: `Comma-separated CloudEvents types: ${CHANGE_EVENT_TYPE_LIST.join(', ')}` },
              },
            },
            bindingVersion: HTTP_BINDING,
          },
        },
      },
    },
    components: {
      schemas: dataSchemas,
      messages: {
        ...commandMessages,
        ...changeMessages,
        StreamedChange: {
          name: 'StreamedChange',
          title: 'An accepted change, structured-mode CloudEvent',
          contentType: 'application/cloudevents+json',
          payload: {
            type: 'object',
            required: ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema', 'data'],
            properties: {
              specversion: { const: '1.0' },
              id: { type: 'string', format: 'uuid', description: 'Stable across re-sends: drop duplicates by it' },
              source: { type: 'string', format: 'uri' },
              type: { type: 'string', enum: CHANGE_EVENT_TYPE_LIST },
              subject: { type: 'string', description: 'The event id (the timeline id for a created timeline)' },
              time: { type: 'string', format: 'date-time', description: 'Known time of the change' },
              datacontenttype: { const: 'application/json' },
              dataschema: { type: 'string', format: 'uri' },
              traceparent: TRACEPARENT,
              data: { oneOf: CHANGE_EVENT_TYPE_LIST.map((type) => ref(`#/components/schemas/${type}`)) },
            },
          },
        },
        StreamOverflow: {
          name: 'StreamOverflow',
          title: 'event: overflow — the client could not keep up; the stream ends',
          payload: { type: 'object', properties: { reason: { const: 'client-too-slow' }, detail: { type: 'string' } } },
        },
        StreamTokenExpired: {
          name: 'StreamTokenExpired',
          title: 'event: token-expired — the token that opened the stream is no longer accepted; the stream ends',
          payload: { type: 'object', properties: { detail: { type: 'string' } } },
        },
      },
    },
  };
}

function changeMessage(type: ChangeEventType, config: TimelineConfig) {
  return {
    name: messageName(type),
    title: type,
    contentType: 'application/json',
    headers: {
      type: 'object',
      required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_subject', 'ce_time', 'ce_dataschema', 'content-type'],
      properties: {
        ce_specversion: { const: '1.0' },
        ce_id: { type: 'string', format: 'uuid', description: 'Stable across re-sends, from (command id, change index)' },
        ce_source: { type: 'string', format: 'uri', description: `${config.publicBaseUrl}/v1/timelines/{timelineId}` },
        ce_type: { const: type },
        ce_subject: { type: 'string', description: 'The event id (the timeline id for a created timeline and a redaction applied)' },
        ce_time: { type: 'string', format: 'date-time', description: 'Known time: when the service accepted the change' },
        ce_dataschema: { const: dataSchemaUrl(config.publicBaseUrl, type) },
        'content-type': { const: 'application/json' },
        traceparent: TRACEPARENT,
      },
    },
    payload: ref(`#/components/schemas/${type}`),
    bindings: { kafka: { key: TIMELINE_KEY, bindingVersion: KAFKA_BINDING } },
  };
}

function commandMessage(name: string, payload: JsonSchema) {
  return {
    name,
    title: name,
    contentType: 'application/json',
    headers: {
      type: 'object',
      required: ['command-id', 'command-type'],
      properties: {
        'command-id': { type: 'string', format: 'uuid' },
        'command-type': { const: name },
        'schema-version': { type: 'string', description: 'Absent in version 0 records', enum: [String(COMMAND_SCHEMA_VERSION)] },
        traceparent: TRACEPARENT,
        tracestate: { type: 'string' },
      },
    },
    payload,
    bindings: { kafka: { key: name === 'Redact' ? REDACTION_KEY : TIMELINE_KEY, bindingVersion: KAFKA_BINDING } },
  };
}

function kafkaTopicBinding(config: TimelineConfig, extra: Record<string, string | number>) {
  return {
    partitions: config.kafka.partitions,
    replicas: config.kafka.replicationFactor,
    topicConfiguration: { 'cleanup.policy': ['delete'], 'retention.ms': -1, 'retention.bytes': -1, ...extra },
    bindingVersion: KAFKA_BINDING,
  };
}

function withoutMeta({ $schema: _schema, $id: _id, ...schema }: JsonSchema): JsonSchema {
  return schema;
}
