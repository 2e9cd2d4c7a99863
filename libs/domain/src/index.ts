export * from './valid-time';
export * from './storable-text';
export * from './event-data';
export { reasonSchema } from './command-envelope';
export { createTimelineSchema, type CreateTimeline, type TimelineCreated } from './create-timeline/create-timeline';
export { recordEventSchema, type RecordEvent, type EventRecorded } from './record-event/record-event';
export { reviseEventSchema, type ReviseEvent, type EventRevised } from './revise-event/revise-event';
export { retractEventSchema, type RetractEvent, type EventRetracted } from './retract-event/retract-event';
export {
  carriesRedacted,
  decideRedact,
  normalizedRedactionValue,
  REDACTED_FIELDS,
  REDACTION_KINDS,
  redactFields,
  redactionHash,
  redactJson,
  redactSchema,
  stripRedacted,
  valueHashSchema,
  type Redact,
  type RedactionApplied,
  type RedactionKey,
  type RedactionKind,
  type RedactionView,
} from './redact/redact';
export * from './commands';
export {
  CHANGE_TYPES,
  emptyView,
  isEventChange,
  eventStateFromJson,
  type ChangeType,
  type EventChange,
  type EventState,
  type TimelineChange,
  type TimelineState,
  type TimelineView,
} from './timeline';
export { REJECTION_REASONS, type CommandDecision, type Decision, type DecisionContext, type RejectionReason } from './decision';
export * from './decide';
export * from './evolve';
export * from './known-time';
export * from './stable-id';
