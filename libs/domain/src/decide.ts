import type { LogCommand } from './commands';
import { decideCreateTimeline } from './create-timeline/create-timeline';
import type { Decision, DecisionContext } from './decision';
import { decideRecordEvent } from './record-event/record-event';
import { stripRedacted } from './redaction';
import { decideRedact } from './redact/redact';
import { decideRetractEvent } from './retract-event/retract-event';
import { decideReviseEvent } from './revise-event/revise-event';
import type { PartitionState } from './state';

/**
 * Decides any command of the log. Pure: the same command against the same
 * state and context always gives the same decision. A command is decided
 * without the values the partition's redactions removed.
 */
export function decide(command: LogCommand, state: PartitionState, context: DecisionContext): Decision {
  const stripped = stripRedacted(command, state.redactions);
  switch (stripped.type) {
    case 'CreateTimeline':
      return decideCreateTimeline(stripped, state, context);
    case 'RecordEvent':
      return decideRecordEvent(stripped, state, context);
    case 'ReviseEvent':
      return decideReviseEvent(stripped, state, context);
    case 'RetractEvent':
      return decideRetractEvent(stripped, state, context);
    case 'Redact':
      return decideRedact(stripped, state, context);
    default: {
      const unknown: never = stripped;
      return unknown;
    }
  }
}
