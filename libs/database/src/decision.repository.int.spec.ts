import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { TimelineCommand } from '@timeline/domain';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { commands, projectCommands } from '../../../test/support/projected-commands';
import { expectEventually } from '../../../test/support/eventually';
import { DecisionNotifications } from './decision-notifications';
import { DecisionRepository, type DecisionRecord } from './decision.repository';
import { ProjectionRepository } from './projection.repository';

const eventIdOf = (command: TimelineCommand) => ('eventId' in command ? command.eventId : null);

describe('the decisions', () => {
  let database: MigratedDatabase;
  let decisions: DecisionRepository;
  const created = commands.createTimeline('japan-nato');
  const recorded = commands.recordEvent('japan-nato');
  const revised = commands.reviseEvent('japan-nato', eventIdOf(recorded)!, { factuality: 'confirmed' });
  const orphan = commands.recordEvent('no-such-timeline');
  // The same content again: accepted, and changes nothing.
  const createdAgain = { ...commands.createTimeline('japan-nato'), commandId: randomUUID() };
  const notified = { commandIds: [] as string[], carried: [] as DecisionRecord[] };
  let listener: DecisionNotifications;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    decisions = new DecisionRepository(database.pool);
    listener = new DecisionNotifications(database.url);
    await listener.start();
    listener.subscribe({
      decided: (commandIds, carried) => (notified.commandIds.push(...commandIds), notified.carried.push(...carried)),
      reconnected: () => undefined,
    });
    const projection = new ProjectionRepository(database.pool);
    await projectCommands(projection, [created, recorded, orphan]);
    await projectCommands(projection, [revised, createdAgain]);
  });
  afterAll(async () => {
    await listener?.stop();
    await database?.drop();
  });

  test("a batch's notification carries each decision it wrote whole, as read here; one that changed nothing only by its id", async () => {
    const all = [created, recorded, orphan, revised, createdAgain];
    await expectEventually(() => expect(notified.commandIds).toEqual(all.map((command) => command.commandId)));
    const carriedIds = notified.carried.map((decision) => decision.commandId);
    expect(carriedIds).toEqual([created, recorded, orphan, revised].map((command) => command.commandId));
    const read = await decisions.findByCommandIds(carriedIds);
    for (const decision of notified.carried) {
      expect(decision).toEqual(read.find((found) => found.commandId === decision.commandId));
    }
  });

  test('an accepted CreateTimeline: with the timeline it created', async () => {
    const [decision] = await decisions.findByCommandIds([created.commandId]);
    expect(decision).toMatchObject({
      commandId: created.commandId,
      commandType: 'CreateTimeline',
      timelineId: 'japan-nato',
      eventId: null,
      outcome: 'accepted',
      reason: null,
      version: 1,
      partition: 0,
      offset: 0,
      event: null,
      timeline: { title: 'Timeline japan-nato', description: '', defaultLanguage: 'it' },
    });
    expect(decision.knownAt).toBe(decision.timeline!.createdAt);
  });

  test('an accepted event command: with the event as that decision left it, not as it is now', async () => {
    const [first, second] = await decisions
      .findByCommandIds([recorded.commandId, revised.commandId])
      .then((found) => [recorded, revised].map((command) => found.find((decision) => decision.commandId === command.commandId)!));
    expect(first).toMatchObject({ outcome: 'accepted', eventId: eventIdOf(recorded), revision: 1, offset: 1, timeline: null });
    expect(first.event).toMatchObject({ eventId: eventIdOf(recorded), revision: 1, factuality: 'reported' });
    expect(second).toMatchObject({ outcome: 'accepted', revision: 2, offset: 3 });
    expect(second.event).toMatchObject({ eventId: eventIdOf(recorded), revision: 2, factuality: 'confirmed' });
  });

  test('a rejection: its reason, and neither event nor timeline', async () => {
    const [decision] = await decisions.findByCommandIds([orphan.commandId]);
    expect(decision).toMatchObject({ outcome: 'rejected', reason: 'timeline_not_found', timelineId: 'no-such-timeline', event: null, timeline: null });
  });

  test('commands not decided have no decision', async () => {
    expect(await decisions.findByCommandIds([randomUUID()])).toEqual([]);
    expect(await decisions.findByCommandIds([])).toEqual([]);
  });
});
