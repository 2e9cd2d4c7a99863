import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { TimelineReadRepository, type DecisionRecord } from '@timeline/database';
import { nameBasedUuid } from '@timeline/domain';
import { RetractEventRequest, RetractEventRequestHandler, ReviseEventRequest, ReviseEventRequestHandler } from '../events/event.requests';
import { FindEventTimelineHandler } from '../events/event.queries';
import {
  CreateTimelineRequest,
  CreateTimelineRequestHandler,
  RecordEventRequest,
  RecordEventBatchRequest,
  RecordEventBatchRequestHandler,
  RecordEventRequestHandler,
} from '../timelines/timeline.requests';
import { recordEventBodySchema } from '../timelines/timelines.schemas';
import { CommandSubmissionService, type Submission, type TimelineWrite } from './command-submission.service';

const EVENT_ID = '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1003';
const PENDING_ID = 'c0ffee00-0000-4000-8000-000000000001';
const EVENT = recordEventBodySchema.parse({
  kind: 'programme.adopted',
  title: 'Programme adopted',
  language: 'en',
  validTime: '2023-07-12',
  factuality: 'confirmed',
});

/** Each feature's write request through the CommandBus, with the submission faked: what it submits, and how it answers. */
describe('write requests', () => {
  let commandBus: CommandBus;
  let writes: TimelineWrite[];
  let submission: Submission;
  let batchSubmissions: Submission[];

  beforeAll(async () => {
    const module = await Test.createTestingModule({
      imports: [CqrsModule.forRoot()],
      providers: [
        CreateTimelineRequestHandler,
        RecordEventRequestHandler,
        RecordEventBatchRequestHandler,
        ReviseEventRequestHandler,
        RetractEventRequestHandler,
        FindEventTimelineHandler,
        { provide: TimelineReadRepository, useValue: { findEventTimeline: async () => 'japan-nato' } },
        {
          provide: CommandSubmissionService,
          useValue: {
            submit: async (write: TimelineWrite) => (writes.push(write), submission),
            submitBatch: async (batch: TimelineWrite[]) => (writes.push(...batch), batchSubmissions),
          },
        },
      ],
    }).compile();
    await module.init();
    commandBus = module.get(CommandBus);
  });
  beforeEach(() => {
    writes = [];
    submission = { state: 'pending', commandId: PENDING_ID };
  });

  test('a command not decided in time is answered 202 with where to ask', async () => {
    const answer = await commandBus.execute(new CreateTimelineRequest('japan-nato', { title: 'Japan and NATO', description: '', defaultLanguage: 'en' }, {}));
    const location = `/v1/commands/${PENDING_ID}`;
    expect(answer).toEqual({ status: 202, body: { commandId: PENDING_ID, status: 'pending', location }, headers: { location } });
  });

  test('CreateTimeline: 201 when it created the timeline, with its version as ETag', async () => {
    const timeline = { title: 'Japan and NATO', description: '', defaultLanguage: 'en' };
    submission = { state: 'decided', decision: decision({ changed: true, version: 1, timeline: { ...timeline, createdAt: '2023-07-12T00:00:00.000Z' } }) };
    const answer = await commandBus.execute(new CreateTimelineRequest('japan-nato', timeline, { expectedVersion: 0 }));
    expect(writes).toEqual([
      {
        draft: { type: 'CreateTimeline', timelineId: 'japan-nato', expectedVersion: 0, timeline },
        request: { route: 'PUT timeline', timelineId: 'japan-nato', timeline },
        headers: { expectedVersion: 0 },
      },
    ]);
    expect(answer).toMatchObject({ status: 201, headers: { etag: '"1"', location: '/v1/timelines/japan-nato' } });
  });

  test('RecordEvent without an eventId names the event after the command, which the Idempotency-Key names', async () => {
    const headers = { idempotencyKey: 'k-1' };
    await commandBus.execute(new RecordEventRequest('japan-nato', EVENT, EVENT, headers));
    await commandBus.execute(new RecordEventRequest('japan-nato', EVENT, EVENT, headers));
    const commandId = nameBasedUuid('idempotency:japan-nato:k-1');
    expect(writes.map((write) => write.commandId)).toEqual([commandId, commandId]);
    expect(writes[0].draft).toEqual({
      type: 'RecordEvent',
      timelineId: 'japan-nato',
      eventId: nameBasedUuid(`event:${commandId}`),
      expectedVersion: undefined,
      event: EVENT,
    });
    expect(writes[0].request).toEqual({ route: 'POST event', timelineId: 'japan-nato', body: EVENT });
  });

  test('ReviseEvent and RetractEvent are appended under the timeline of their event and answered 200 with the event', async () => {
    submission = { state: 'decided', decision: decision({ eventId: EVENT_ID, version: 4, revision: 2 }) };
    const revision = { changes: { factuality: 'reported' as const }, reason: 'one source only' };
    const revised = await commandBus.execute(new ReviseEventRequest(EVENT_ID, revision, { ...revision, extra: 'as sent' }, { expectedVersion: 3 }));
    const retracted = await commandBus.execute(new RetractEventRequest(EVENT_ID, { reason: 'wrong' }, { reason: 'wrong' }, {}));
    expect(writes.map(({ draft, request }) => ({ draft, request }))).toEqual([
      {
        draft: { type: 'ReviseEvent', timelineId: 'japan-nato', eventId: EVENT_ID, expectedVersion: 3, ...revision },
        request: { route: 'POST revision', eventId: EVENT_ID, body: { ...revision, extra: 'as sent' } },
      },
      {
        draft: { type: 'RetractEvent', timelineId: 'japan-nato', eventId: EVENT_ID, expectedVersion: undefined, reason: 'wrong' },
        request: { route: 'POST retraction', eventId: EVENT_ID, body: { reason: 'wrong' } },
      },
    ]);
    for (const answer of [revised, retracted]) expect(answer).toMatchObject({ status: 200, body: { revision: 2, version: 4 }, headers: { etag: '"4"' } });
  });

  test('RecordEventBatch: one RecordEvent per event, keyed per index under the batch key, answered 200 with a result per event in order', async () => {
    const recorded = decision({ commandType: 'RecordEvent', eventId: EVENT_ID, version: 5, revision: 1 });
    const conflict = decision({ commandType: 'RecordEvent', outcome: 'rejected', reason: 'event_exists', detail: 'event exists' });
    batchSubmissions = [
      { state: 'decided', decision: recorded },
      { state: 'pending', commandId: PENDING_ID },
      { state: 'decided', decision: conflict },
    ];
    const body = { events: [EVENT, EVENT, EVENT] };
    const answer = await commandBus.execute(new RecordEventBatchRequest('japan-nato', [EVENT, EVENT, EVENT], body, { idempotencyKey: 'b-1' }));

    const commandIds = [0, 1, 2].map((index) => nameBasedUuid(`idempotency-batch:japan-nato:b-1:${index}`));
    expect(writes.map((write) => write.commandId)).toEqual(commandIds);
    expect(writes.map((write) => write.draft)).toEqual(
      commandIds.map((commandId) => ({
        type: 'RecordEvent',
        timelineId: 'japan-nato',
        eventId: nameBasedUuid(`event:${commandId}`),
        expectedVersion: undefined,
        event: EVENT,
      })),
    );
    expect(writes[1].request).toEqual({ route: 'POST events:batch', timelineId: 'japan-nato', body, index: 1 });
    expect(answer.status).toBe(200);
    expect((answer.body as { results: unknown[] }).results).toEqual([
      { status: 201, event: null, revision: 1, version: 5, commandId: recorded.commandId },
      { status: 202, commandId: PENDING_ID, location: `/v1/commands/${PENDING_ID}` },
      { status: 409, problem: expect.objectContaining({ type: '/problems/event-exists', status: 409, detail: 'event exists', commandId: conflict.commandId }) },
    ]);
  });

  test('a rejection is thrown as its problem, with its status from the problem table', async () => {
    submission = { state: 'decided', decision: decision({ outcome: 'rejected', reason: 'revision_conflict', detail: 'event is at revision 3' }) };
    await expect(commandBus.execute(new RetractEventRequest(EVENT_ID, { reason: 'wrong' }, {}, {}))).rejects.toMatchObject({
      code: 'revision-conflict',
      status: 409,
    });
  });
});

/** An accepted CreateTimeline, with `fields` changed. */
function decision(fields: Partial<DecisionRecord>): DecisionRecord {
  const ids = { commandId: 'c0ffee00-0000-4000-8000-000000000002', commandType: 'CreateTimeline', timelineId: 'japan-nato', eventId: null } as const;
  const outcome = { outcome: 'accepted', reason: null, detail: null, fingerprint: null, changed: true, knownAt: '2023-07-12T00:00:00.000Z' } as const;
  return { ...ids, ...outcome, version: 1, revision: null, partition: 0, offset: 0, event: null, timeline: null, ...fields };
}
