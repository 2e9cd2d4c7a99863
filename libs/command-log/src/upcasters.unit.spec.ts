import { describe, expect, test } from '@jest/globals';
import { decide, evolve, initialState } from '@timeline/domain';
import { parseCommandRecord } from './command-record';
import { canUpcast, upcastCommandRecord } from './upcasters';

const timelineId = 'japan-nato';
const created = {
  type: 'TimelineCreated' as const,
  commandId: '6f1c1e9a-3f4b-4c59-9d7a-1b2c3d4e5f60',
  timelineId,
  version: 1,
  knownAt: '2023-07-01T00:00:00.000Z',
  timeline: { title: 'Giappone e NATO', description: '', defaultLanguage: 'it' },
};

/** A record as the first writer stored it: no schema-version header, valid time named `occurredAt`. */
const storedVersion0Record = JSON.stringify({
  type: 'RecordEvent',
  commandId: '0b8f3a52-6d1e-4f7a-8c2b-9e4d5f6a7b8c',
  timelineId,
  eventId: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
  event: {
    kind: 'programme.adopted',
    title: 'Giappone e NATO adottano il programma di partenariato su misura',
    language: 'it',
    occurredAt: '2023-07-12',
    factuality: 'confirmed',
  },
});

describe('reading old records of timeline.commands', () => {
  test('a stored version 0 RecordEvent is upcast and decides like the same command written today', () => {
    const parsed = parseCommandRecord(storedVersion0Record, undefined);
    expect(parsed).toMatchObject({ ok: true, command: { type: 'RecordEvent', event: { validTime: { text: '2023-07-12' } } } });
    if (!parsed.ok || parsed.command.type === 'Redact') throw new Error('not a RecordEvent');
    expect(parsed.command.type === 'RecordEvent' && 'occurredAt' in parsed.command.event).toBe(false);

    const today = { ...JSON.parse(storedVersion0Record) };
    today.event = { ...today.event, validTime: today.event.occurredAt };
    delete today.event.occurredAt;
    const current = parseCommandRecord(JSON.stringify(today), 1);
    if (!current.ok || current.command.type === 'Redact') throw new Error('not a RecordEvent');

    const state = evolve(initialState(), created);
    const context = { knownAt: '2023-07-12T10:00:00.000Z' };
    const decision = decide(parsed.command, state, context);
    expect(decision).toEqual(decide(current.command, state, context));
    expect(decision).toMatchObject({ outcome: 'accepted', changes: [{ type: 'EventRecorded', event: { validTime: { text: '2023-07-12' } } }] });
  });

  test('a version 0 ReviseEvent names `occurredAt` among its changes', () => {
    const record = { type: 'ReviseEvent', commandId: created.commandId, timelineId, eventId: created.commandId, reason: 'r', changes: { occurredAt: '2023' } };
    expect(upcastCommandRecord(record, 0, 1)).toEqual({ ...record, changes: { validTime: '2023' } });
  });

  test('a record of the current version is left as it is, so is a version 0 record that names both fields', () => {
    const both = { type: 'RecordEvent', event: { occurredAt: '2022', validTime: '2023' } };
    expect(upcastCommandRecord(both, 0, 1)).toEqual(both);
    const parsed = parseCommandRecord(
      JSON.stringify({ ...JSON.parse(storedVersion0Record), event: { ...JSON.parse(storedVersion0Record).event, validTime: '2023' } }),
      undefined,
    );
    expect(parsed).toMatchObject({ ok: false, detail: expect.stringMatching(/occurredAt/) });
  });

  test('versions newer than ours, negative or not numbers are malformed, not guessed', () => {
    expect(canUpcast(1, 1)).toBe(true);
    expect(canUpcast(0, 1)).toBe(true);
    for (const version of [2, -1, Number.NaN, 0.5]) {
      expect(canUpcast(version, 1)).toBe(false);
      expect(parseCommandRecord(storedVersion0Record, version)).toEqual({ ok: false, detail: `unknown command schema version ${version}` });
    }
  });
});
