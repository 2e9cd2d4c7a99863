import { describe, expect, test } from '@jest/globals';
import { CHANGE_DATA_SCHEMAS, changeCloudEvent, changeEventId } from './change-events';
import { decide, evolve, initialState, isTimelineChange, ValidTime, type AsJson, type TimelineChange } from '@timeline/domain';

const base = 'https://timeline.example';
const timelineId = 'japan-nato';
const eventId = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

/** Every change type, as the decider makes them and the outbox stores them. */
function lifeOfAnEvent(): AsJson<TimelineChange>[] {
  const changes: TimelineChange[] = [];
  let state = initialState();
  const run = (command: Parameters<typeof decide>[0], knownAt: string) => {
    const decision = decide(command, state, { knownAt });
    if (decision.outcome !== 'accepted') throw new Error(decision.detail);
    for (const change of decision.changes) {
      state = evolve(state, change);
      if (isTimelineChange(change)) changes.push(change);
    }
  };
  run(
    { type: 'CreateTimeline', commandId: id(1), timelineId, timeline: { title: 'Giappone e NATO', description: '', defaultLanguage: 'it' } },
    '2023-07-01T00:00:00.000Z',
  );
  run(
    {
      type: 'RecordEvent',
      commandId: id(2),
      timelineId,
      eventId,
      event: {
        kind: 'programme.adopted',
        title: 'Programma',
        summary: '',
        language: 'it',
        validTime: ValidTime.parse('2023-07-12')!,
        actors: [],
        places: [],
        topics: [],
        sources: [],
        factuality: 'expected',
        relations: [],
        translations: {},
      },
    },
    '2023-07-02T00:00:00.000Z',
  );
  run({ type: 'ReviseEvent', commandId: id(3), timelineId, eventId, changes: { factuality: 'confirmed' }, reason: 'MOFA' }, '2023-07-13T00:00:00.000Z');
  run({ type: 'RetractEvent', commandId: id(4), timelineId, eventId, reason: 'Recorded twice' }, '2023-07-14T00:00:00.000Z');
  return JSON.parse(JSON.stringify(changes));
}

describe('accepted changes as CloudEvents', () => {
  test('each change type maps to its versioned type, subject and data, and the data passes its published schema', () => {
    const events = lifeOfAnEvent().map((change) => changeCloudEvent({ change, changeIndex: 0, traceparent: null }, base));
    expect(events.map((event) => [event.type, event.subject])).toEqual([
      ['timeline.timeline.created.v1', timelineId],
      ['timeline.event.recorded.v1', eventId],
      ['timeline.event.revised.v1', eventId],
      ['timeline.event.retracted.v1', eventId],
    ]);
    for (const event of events) {
      expect(CHANGE_DATA_SCHEMAS[event.type].safeParse(event.data).error).toBeUndefined();
      expect(event).toMatchObject({ specversion: '1.0', source: `${base}/v1/timelines/${timelineId}`, dataschema: `${base}/schemas/${event.type}.json` });
      expect(event.time).toBe(event.data.knownAt);
      expect(event).not.toHaveProperty('traceparent');
      expect(event.data).not.toHaveProperty('type');
    }
    expect(events[2].data).toMatchObject({
      changed: { factuality: 'confirmed' },
      previous: { factuality: 'expected' },
      event: { factuality: 'confirmed', revision: 2 },
    });
    expect(events[3].data).toMatchObject({ reason: 'Recorded twice', event: { retracted: true, revision: 3 } });
  });

  test('the id is stable for a (command, change index) and differs between them', () => {
    expect(changeEventId(id(1), 0)).toBe(changeEventId(id(1), 0));
    expect(new Set([changeEventId(id(1), 0), changeEventId(id(1), 1), changeEventId(id(2), 0)]).size).toBe(3);
  });

  test('the trace context rides along when the command had one', () => {
    const [created] = lifeOfAnEvent();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(changeCloudEvent({ change: created, changeIndex: 0, traceparent }, base).traceparent).toBe(traceparent);
  });
});
