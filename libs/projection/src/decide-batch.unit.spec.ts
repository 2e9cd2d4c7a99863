import { describe, expect, test } from '@jest/globals';
import { COMMAND_HEADERS, type LogRecord } from '@timeline/command-log';
import { decide, evolve, initialState, redactionHash, type PartitionState } from '@timeline/domain';
import { decideBatch, decisionDetail, parseRecord, recordUuid, referencedIds, untilNextRedaction } from './decide-batch';

const TOPIC = 'timeline.commands';
const COMMAND_ID = '00000000-0000-4000-8000-000000000001';
const EVENT_ID = '00000000-0000-4000-8000-0000000000e1';
let offset = 0;

const record = (value: string | Buffer | null, headers: Record<string, string> = { [COMMAND_HEADERS.schemaVersion]: '1' }): LogRecord => ({
  partition: 2,
  offset: offset++,
  timestamp: Date.parse('2023-07-11T09:00:00Z'),
  key: 'japan-nato',
  value: typeof value === 'string' ? Buffer.from(value) : value,
  headers,
});
const createTimeline = (commandId = COMMAND_ID) =>
  JSON.stringify({ type: 'CreateTimeline', commandId, timelineId: 'japan-nato', timeline: { title: 'Giappone e NATO', defaultLanguage: 'it' } });
const nothingLoaded = { timelines: [], events: [], redactions: [], redactionTargets: null };

describe('a malformed record', () => {
  test('that names a command id is decided under it, with the ids and type it names', () => {
    const poisoned = record(
      JSON.stringify({ type: 'RecordEvent', commandId: COMMAND_ID, timelineId: 'japan-nato', eventId: EVENT_ID, event: { title: 'a\u0000b' } }),
    );
    const { decisions } = decideBatch(TOPIC, [parseRecord(poisoned)], nothingLoaded, new Set());
    expect(decisions).toEqual([
      expect.objectContaining({
        commandId: COMMAND_ID,
        commandType: 'RecordEvent',
        timelineId: 'japan-nato',
        eventId: EVENT_ID,
        outcome: 'rejected',
        reason: 'malformed',
        offset: poisoned.offset,
      }),
    ]);
  });

  test('that names no readable command id is decided under an id derived from its place in the log', () => {
    const garbage = record(Buffer.from([0x00, 0xff, 0x7b]));
    const { decisions } = decideBatch(TOPIC, [parseRecord(garbage)], nothingLoaded, new Set());
    expect(decisions).toEqual([
      expect.objectContaining({
        commandId: recordUuid(TOPIC, 2, garbage.offset),
        commandType: 'unknown',
        timelineId: null,
        reason: 'malformed',
        detail: 'value is not JSON',
      }),
    ]);
  });

  test('that names ids of the wrong shape claims none of them', () => {
    const parsed = parseRecord(record(JSON.stringify({ type: 'Nope', commandId: '\u0000', timelineId: 'Not A Slug', eventId: 42 })));
    expect(parsed.claimed).toEqual({ commandId: null, commandType: null, timelineId: null, eventId: null });
  });

  test('that names a command id decided already changes nothing, in an earlier batch or in this one', () => {
    const malformed = parseRecord(record(JSON.stringify({ type: 'CreateTimeline', commandId: COMMAND_ID })));
    expect(referencedIds([malformed]).commandIds).toEqual([COMMAND_ID]);
    expect(decideBatch(TOPIC, [malformed], nothingLoaded, new Set([COMMAND_ID])).decisions).toEqual([]);
    const accepted = parseRecord(record(createTimeline()));
    const { decisions } = decideBatch(TOPIC, [accepted, malformed], nothingLoaded, new Set());
    expect(decisions.map((decision) => [decision.commandId, decision.outcome])).toEqual([[COMMAND_ID, 'accepted']]);
  });

  test('quoting a key the database cannot store gets a storable, bounded detail', () => {
    const parsed = parseRecord(
      record(
        JSON.stringify({
          type: 'CreateTimeline',
          commandId: COMMAND_ID,
          timelineId: 'japan-nato',
          timeline: { title: 'T', defaultLanguage: 'it', ['\u0000'.repeat(5_000)]: 1 },
        }),
      ),
    );
    const [decision] = decideBatch(TOPIC, [parsed], nothingLoaded, new Set()).decisions;
    expect(decision.detail).not.toContain('\u0000');
    expect(decision.detail!.length).toBeLessThanOrEqual(1_000);
  });
});

describe('a valid command', () => {
  test('whose id was decided before changes nothing and is named for notification, so that a waiter looks it up', () => {
    const again = parseRecord(record(createTimeline()));
    expect(decideBatch(TOPIC, [again], nothingLoaded, new Set([COMMAND_ID]))).toMatchObject({ decisions: [], changes: [], redelivered: [COMMAND_ID] });
    const twice = decideBatch(TOPIC, [parseRecord(record(createTimeline())), again], nothingLoaded, new Set());
    expect(twice.decisions).toHaveLength(1);
    expect(twice.redelivered).toEqual([COMMAND_ID]);
  });

  test('with a traceparent header of another shape is decided, the header not carried on', () => {
    const traced = record(createTimeline(), { [COMMAND_HEADERS.schemaVersion]: '1', [COMMAND_HEADERS.traceparent]: '\u0000A' });
    const { decisions, changes } = decideBatch(TOPIC, [parseRecord(traced)], nothingLoaded, new Set());
    expect(decisions.map((decision) => decision.outcome)).toEqual(['accepted']);
    expect(changes.map((change) => change.traceparent)).toEqual([null]);
  });
});

describe('decisionDetail', () => {
  test('replaces NUL and unpaired surrogates, keeps the rest', () => {
    expect(decisionDetail('a\u0000b\ud800c \ud83d\ude00')).toBe('a\ufffdb\ufffdc \ud83d\ude00');
  });
});

describe('a partition with a redaction', () => {
  const kishida = { id: 'fumio-kishida', name: 'Fumio Kishida', role: 'signatory' };
  const valueHash = redactionHash('fumio-kishida');
  const recordEvent = (commandId: string) =>
    JSON.stringify({
      type: 'RecordEvent',
      commandId,
      timelineId: 'japan-nato',
      eventId: EVENT_ID,
      event: { kind: 'summit.attended', title: 'Vilnius', language: 'it', validTime: '2023-07-12', factuality: 'confirmed', actors: [kishida] },
    });
  const redactRecord = () =>
    record(
      JSON.stringify({
        type: 'Redact',
        commandId: '00000000-0000-4000-8000-0000000000f1',
        redactionId: '00000000-0000-4000-8000-0000000000f2',
        kind: 'actor',
        valueHash,
        partitions: 3,
      }),
      { [COMMAND_HEADERS.schemaVersion]: '1', [COMMAND_HEADERS.commandType]: 'Redact' },
    );

  test('starts a transaction: the records before it are stored first, those after it are decided with it', () => {
    const [a, b, redaction, c, again] = [record(createTimeline()), record(createTimeline()), redactRecord(), record(createTimeline()), redactRecord()].map(
      parseRecord,
    );
    expect(untilNextRedaction([a, b, redaction, c])).toEqual([a, b]);
    expect(untilNextRedaction([redaction, c, again])).toEqual([redaction, c]);
    expect(untilNextRedaction([a, b])).toEqual([a, b]);
  });

  test('a redaction written without its command-type header is found by its content', () => {
    const headerless = parseRecord({ ...redactRecord(), headers: { [COMMAND_HEADERS.schemaVersion]: '1' } });
    const a = parseRecord(record(createTimeline()));
    expect(untilNextRedaction([a, headerless])).toEqual([a]);
  });

  test('a later RecordEvent is decided and stored without the redacted actor', () => {
    const created = decideBatch(TOPIC, [parseRecord(record(createTimeline()))], nothingLoaded, new Set());
    const later = parseRecord(record(recordEvent('00000000-0000-4000-8000-0000000000a1')));
    const decided = decideBatch(TOPIC, [later], { ...nothingLoaded, timelines: created.timelines, redactions: [{ kind: 'actor', valueHash }] }, new Set());
    expect(decided.decisions).toEqual([expect.objectContaining({ outcome: 'accepted' })]);
    expect(JSON.stringify(decided)).not.toContain('fumio-kishida');
  });

  test('a redaction with no carrying rows is accepted, changes nothing and is recorded for the partition', () => {
    const decided = decideBatch(TOPIC, [parseRecord(redactRecord())], nothingLoaded, new Set());
    expect(decided.decisions).toEqual([expect.objectContaining({ commandType: 'Redact', outcome: 'accepted', changed: false, timelineId: null })]);
    expect(decided.changes).toEqual([]);
    expect(decided.redaction).toMatchObject({ kind: 'actor', valueHash, partitions: 3, eventsRewritten: 0 });
  });

  test('a redaction rewrites the carrying events and stored rows, publishes RedactionApplied, and strips the records after it', () => {
    const created = decideBatch(TOPIC, [parseRecord(record(createTimeline()))], nothingLoaded, new Set());
    const recorded = decideBatch(
      TOPIC,
      [parseRecord(record(recordEvent('00000000-0000-4000-8000-0000000000a1')))],
      { ...nothingLoaded, timelines: created.timelines },
      new Set(),
    );
    const [event] = recorded.events;
    const revision = { event_id: EVENT_ID, revision: 1, state: event, changed: {}, previous: {} };
    const loaded = {
      ...nothingLoaded,
      timelines: recorded.timelines,
      redactionTargets: { events: [event], revisions: [revision], outbox: [{ position: 7, payload: recorded.changes[0].change }] },
    };
    const revise = JSON.stringify({
      type: 'ReviseEvent',
      commandId: '00000000-0000-4000-8000-0000000000a2',
      timelineId: 'japan-nato',
      eventId: EVENT_ID,
      changes: { actors: [kishida] },
      reason: 'r',
    });
    const decided = decideBatch(TOPIC, [parseRecord(redactRecord()), parseRecord(record(revise))], loaded, new Set());
    expect(decided.decisions.map(({ commandType, outcome, changed, version }) => [commandType, outcome, changed, version])).toEqual([
      ['Redact', 'accepted', true, null],
      ['ReviseEvent', 'accepted', false, 3],
    ]);
    expect(decided.changes.map(({ change, index }) => [change.type, index])).toEqual([['RedactionApplied', 0]]);
    expect(decided.timelines).toEqual([expect.objectContaining({ timelineId: 'japan-nato', version: 3 })]);
    expect(decided.events).toEqual([expect.objectContaining({ eventId: EVENT_ID, revision: 1, actors: [] })]);
    expect(decided.redaction).toMatchObject({ eventsRewritten: 1, revisions: [{ event_id: EVENT_ID, actor_keys: [] }], outbox: [{ position: 7 }] });
    expect(JSON.stringify(decided)).not.toContain('fumio-kishida');
  });
});

describe('a batch of many commands on several timelines', () => {
  const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  const event = (title: string) => ({ kind: 'summit.attended', title, language: 'it', validTime: '2023-07-12', factuality: 'confirmed' });
  const commands = [
    { type: 'CreateTimeline', commandId: uuid(1), timelineId: 'japan-nato', timeline: { title: 'Giappone e NATO', defaultLanguage: 'it' } },
    { type: 'CreateTimeline', commandId: uuid(2), timelineId: 'tokyo-office', timeline: { title: 'Ufficio di Tokyo', defaultLanguage: 'it' } },
    { type: 'RecordEvent', commandId: uuid(3), timelineId: 'japan-nato', eventId: uuid(101), event: event('Madrid') },
    { type: 'RecordEvent', commandId: uuid(4), timelineId: 'tokyo-office', eventId: uuid(102), event: event('Proposta') },
    // The same event id on the other timeline: the event exists.
    { type: 'RecordEvent', commandId: uuid(5), timelineId: 'japan-nato', eventId: uuid(102), event: event('Doppione') },
    {
      type: 'ReviseEvent',
      commandId: uuid(6),
      timelineId: 'japan-nato',
      eventId: uuid(101),
      expectedRevision: 1,
      changes: { title: 'Vertice di Madrid' },
      reason: 'titolo',
    },
    {
      type: 'ReviseEvent',
      commandId: uuid(7),
      timelineId: 'japan-nato',
      eventId: uuid(101),
      expectedRevision: 1,
      changes: { title: 'Madrid' },
      reason: 'vecchia revisione',
    },
    { type: 'RetractEvent', commandId: uuid(8), timelineId: 'tokyo-office', eventId: uuid(102), reason: 'accantonata' },
    { type: 'RecordEvent', commandId: uuid(9), timelineId: 'missing', eventId: uuid(103), event: event('Nessuna linea') },
    { type: 'RecordEvent', commandId: uuid(10), timelineId: 'japan-nato', eventId: uuid(104), expectedVersion: 3, event: event('Vilnius') },
    { type: 'RecordEvent', commandId: uuid(11), timelineId: 'japan-nato', eventId: uuid(105), expectedVersion: 3, event: event('In ritardo') },
  ];

  test('decides every command as decide and evolve folded over the whole partition state do', () => {
    const parsed = commands.map((command) => parseRecord(record(JSON.stringify(command))));
    expect(parsed.map(({ malformed }) => malformed)).toEqual(commands.map(() => null));
    const batch = decideBatch(TOPIC, parsed, nothingLoaded, new Set());

    let whole: PartitionState = initialState();
    const expected = parsed.map(({ record: { timestamp }, command }) => {
      const decision = decide(command!, whole, { knownAt: new Date(timestamp).toISOString() });
      if (decision.outcome === 'rejected') return { outcome: 'rejected', reason: decision.reason, version: null, revision: null };
      whole = decision.changes.reduce(evolve, whole);
      const { timelineId, eventId } = command as { timelineId?: string; eventId?: string };
      return {
        outcome: 'accepted',
        reason: null,
        version: timelineId ? whole.timelines.get(timelineId)!.version : null,
        revision: eventId ? whole.events.get(eventId)!.revision : null,
      };
    });

    expect(batch.decisions.map(({ outcome, reason, version, revision }) => ({ outcome, reason, version, revision }))).toEqual(expected);
    expect(batch.decisions.map((decision) => decision.reason)).toEqual([
      null,
      null,
      null,
      null,
      'event_exists',
      null,
      'revision_conflict',
      null,
      'timeline_not_found',
      null,
      'version_conflict',
    ]);
    expect(new Map(batch.timelines.map((timeline) => [timeline.timelineId, timeline]))).toEqual(whole.timelines);
    expect(new Map(batch.events.map((state) => [state.eventId, state]))).toEqual(whole.events);
  });
});
