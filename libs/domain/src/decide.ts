import type { TimelineCommand } from './commands';
import { decideCreateTimeline } from './create-timeline/create-timeline';
import type { Decision, DecisionContext } from './decision';
import { decideRecordEvent } from './record-event/record-event';
import { decideRetractEvent } from './retract-event/retract-event';
import { decideReviseEvent } from './revise-event/revise-event';
import type { TimelineView } from './timeline';

/** Pure: the same command against the same view and context always gives the same decision. */
export function decide(command: TimelineCommand, view: TimelineView, context: DecisionContext): Decision {
  switch (command.type) {
    case 'CreateTimeline':
      return decideCreateTimeline(command, view, context);
    case 'RecordEvent':
      return decideRecordEvent(command, view, context);
    case 'ReviseEvent':
      return decideReviseEvent(command, view, context);
    case 'RetractEvent':
      return decideRetractEvent(command, view, context);
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}
