import { evolveTimelineCreated } from './create-timeline/create-timeline';
import { evolveEventRecorded } from './record-event/record-event';
import { evolveEventRetracted } from './retract-event/retract-event';
import { evolveRedactionApplied } from './redact/redact';
import { evolveEventRevised } from './revise-event/revise-event';
import type { TimelineChange, TimelineView } from './timeline';

export function evolve(view: TimelineView, change: TimelineChange): TimelineView {
  switch (change.type) {
    case 'TimelineCreated':
      return evolveTimelineCreated(view, change);
    case 'EventRecorded':
      return evolveEventRecorded(view, change);
    case 'EventRevised':
      return evolveEventRevised(view, change);
    case 'EventRetracted':
      return evolveEventRetracted(view, change);
    case 'RedactionApplied':
      return evolveRedactionApplied(view, change);
    default: {
      const unknown: never = change;
      return unknown;
    }
  }
}
