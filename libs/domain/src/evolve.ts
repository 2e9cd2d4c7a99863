import type { Change } from './changes';
import { evolveTimelineCreated } from './create-timeline/create-timeline';
import { evolveEventRecorded } from './record-event/record-event';
import { evolveRedactionApplied, evolveRedactionRecorded } from './redact/redact';
import { evolveEventRetracted } from './retract-event/retract-event';
import { evolveEventRevised } from './revise-event/revise-event';
import type { PartitionState } from './state';

/** Applies any change the decider makes. Pure, like `decide`. */
export function evolve(state: PartitionState, change: Change): PartitionState {
  switch (change.type) {
    case 'TimelineCreated':
      return evolveTimelineCreated(state, change);
    case 'EventRecorded':
      return evolveEventRecorded(state, change);
    case 'EventRevised':
      return evolveEventRevised(state, change);
    case 'EventRetracted':
      return evolveEventRetracted(state, change);
    case 'RedactionApplied':
      return evolveRedactionApplied(state, change);
    case 'RedactionRecorded':
      return evolveRedactionRecorded(state, change);
    default: {
      const unknown: never = change;
      return unknown;
    }
  }
}
