// Values
export * from './valid-time';
export * from './storable-text';
export * from './event-data';
export * from './stable-id';
export * from './redaction';
// State and changes
export { initialState, eventStateFromJson, type EventState, type PartitionState, type TimelineState } from './state';
export * from './changes';
export * from './known-time';
export { REJECTION_REASONS, type Decision, type DecisionContext, type RejectionReason } from './decision';
// Commands
export { reasonSchema } from './command-envelope';
export { createTimelineSchema, type CreateTimeline } from './create-timeline/create-timeline';
export { recordEventSchema, type RecordEvent } from './record-event/record-event';
export { reviseEventSchema, type ReviseEvent } from './revise-event/revise-event';
export { retractEventSchema, type RetractEvent } from './retract-event/retract-event';
export { redactSchema, type Redact } from './redact/redact';
export * from './commands';
// The decider
export * from './decide';
export * from './evolve';
