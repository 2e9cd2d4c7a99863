/** What the decider's specs share: commands to start from and the given/when/then harness. */
import { expect } from '@jest/globals';
import type { Change } from './changes';
import type { LogCommand, TimelineCommand } from './commands';
import type { CreateTimeline } from './create-timeline/create-timeline';
import { decide } from './decide';
import type { Decision } from './decision';
import { eventDataSchema, type EventData } from './event-data';
import { evolve } from './evolve';
import type { RecordEvent } from './record-event/record-event';
import type { Redact } from './redact/redact';
import { redactionHash } from './redaction';
import type { RetractEvent } from './retract-event/retract-event';
import type { ReviseEvent } from './revise-event/revise-event';
import { initialState, type PartitionState } from './state';

export const TIMELINE = 'japan-nato';
export const EVENT = '7d1c0e6e-5c4b-4c53-9a55-3f7c3f2a0001';
export const OTHER_EVENT = '7d1c0e6e-5c4b-4c53-9a55-3f7c3f2a0002';
export const T0 = '2023-07-10T09:00:00.000Z';
export const T1 = '2023-07-11T09:00:00.000Z';
export const T2 = '2023-07-13T09:00:00.000Z';
let commandCounter = 0;
const nextCommandId = () => `00000000-0000-4000-8000-${String(++commandCounter).padStart(12, '0')}`;

export const itpp: EventData = eventDataSchema.parse({
  kind: 'programme.adopted',
  title: 'Giappone e NATO adottano il programma di partenariato su misura',
  summary: 'Kishida e Stoltenberg adottano a Vilnius il programma.',
  language: 'it',
  validTime: '2023-07-12',
  actors: [{ id: 'jp', name: 'Giappone', role: 'party' }],
  places: [{ name: 'Vilnius', country: 'LT' }],
  topics: ['cyber'],
  sources: [],
  factuality: 'expected',
  relations: [],
  translations: {},
});

export const createTimeline = (overrides: Partial<CreateTimeline> = {}): TimelineCommand => ({
  type: 'CreateTimeline',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  timeline: { title: 'Giappone e NATO', description: '', defaultLanguage: 'it' },
  ...overrides,
});
export const recordEvent = (overrides: Partial<RecordEvent> = {}): TimelineCommand => ({
  type: 'RecordEvent',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  eventId: EVENT,
  event: itpp,
  ...overrides,
});
export const reviseEvent = (overrides: Partial<ReviseEvent> = {}): TimelineCommand => ({
  type: 'ReviseEvent',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  eventId: EVENT,
  changes: { factuality: 'confirmed' },
  reason: 'Adopted on 12 July 2023 (MOFA)',
  ...overrides,
});
export const retractEvent = (overrides: Partial<RetractEvent> = {}): TimelineCommand => ({
  type: 'RetractEvent',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  eventId: EVENT,
  reason: 'Rests on anonymous sources only',
  ...overrides,
});

export const KISHIDA = { id: 'fumio-kishida', name: 'Fumio Kishida', role: 'signatory' };
export const redact = (overrides: Partial<Redact> = {}): Redact => ({
  type: 'Redact',
  commandId: nextCommandId(),
  redactionId: '00000000-0000-4000-8000-00000000ee01',
  kind: 'actor',
  valueHash: redactionHash(KISHIDA.id),
  partitions: 2,
  ...overrides,
});

/** given(commands already accepted).when(command).then(expected decision) */
export function given(...history: LogCommand[]) {
  let state: PartitionState = initialState();
  for (const command of history) {
    const decision = decide(command, state, { knownAt: T0 });
    if (decision.outcome !== 'accepted') throw new Error(`history command ${command.type} was ${decision.reason}`);
    state = decision.changes.reduce(evolve, state);
  }
  return {
    state,
    when(command: LogCommand, knownAt = T1) {
      const decision = decide(command, state, { knownAt });
      return {
        decision,
        /** The state after the decision's changes. */
        after: () => (decision.outcome === 'accepted' ? decision.changes.reduce(evolve, state) : state),
        thenAccepted(...expected: Partial<Change>[]): Change[] {
          expect(decision.outcome).toBe('accepted');
          const changes = (decision as Extract<Decision, { outcome: 'accepted' }>).changes;
          expect(changes).toHaveLength(expected.length);
          expected.forEach((change, index) => expect(changes[index]).toMatchObject(change));
          return [...changes];
        },
        thenRejected(reason: string) {
          expect(decision).toMatchObject({ outcome: 'rejected', reason });
        },
      };
    },
  };
}
