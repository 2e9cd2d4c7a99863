import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { TimelineCommand } from '@timeline/domain';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { commands, projectCommands } from '../../../test/support/projected-commands';
import { DecisionRepository } from './decision.repository';
import { ProjectionRepository } from './projection.repository';

const eventIdOf = (command: TimelineCommand) => ('eventId' in command ? command.eventId : null);

describe('the decisions', () => {
  let database: MigratedDatabase;
  let decisions: DecisionRepository;
  const created = commands.createTimeline('japan-nato');
  const recorded = commands.recordEvent('japan-nato');
  const revised = commands.reviseEvent('japan-nato', eventIdOf(recorded)!, { factuality: 'confirmed' });
  const orphan = commands.recordEvent('no-such-timeline');

  beforeAll(async () => {
    database = await createMigratedDatabase();
    decisions = new DecisionRepository(database.pool);
    const projection = new ProjectionRepository(database.pool);
    await projectCommands(projection, [created, recorded, orphan]);
    await projectCommands(projection, [revised]);
  });
  afterAll(() => database?.drop());

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
    const [first, second] = await decisions.findByCommandIds([recorded.commandId, revised.commandId]).then((found) =>
      [recorded, revised].map((command) => found.find((decision) => decision.commandId === command.commandId)!),
    );
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
