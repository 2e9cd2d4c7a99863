/**
 * Loads the Japan–NATO seed timeline through the HTTP API, with the typed client
 * (@timeline/client). Every write carries an Idempotency-Key of its own, so
 * running it again changes nothing and gets the same answers.
 *
 *   node -r @swc-node/register scripts/seed/load-seed.ts [api base URL] [--token-file FILE]
 *
 * It writes with a bearer token that has timelines:write: TIMELINE_TOKEN, or the file --token-file names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TimelineClient, type components } from '@timeline/client';
import { tokenFromCommandLine } from '../auth/command-line-token';

type Schemas = components['schemas'];

interface Seed {
  timeline: { timelineId: string } & Schemas['CreateTimelineRequest'];
  events: ({ eventId: string } & Schemas['RecordEventRequest'])[];
  revisions: ({ eventId: string } & Schemas['ReviseEventRequest'])[];
}

const SEED_FILE = join(__dirname, 'japan-nato.json');

export async function loadSeed(baseUrl: string, accessToken: string): Promise<{ timelineId: string; events: number; revisions: number }> {
  const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as Seed;
  const client = new TimelineClient({ baseUrl, accessToken });
  const { timelineId, ...timeline } = seed.timeline;
  await client.createTimeline(timelineId, timeline, { idempotencyKey: `seed:${timelineId}` });
  for (const event of seed.events) {
    await client.recordEvent(timelineId, event, { idempotencyKey: `seed:event:${event.eventId}` });
  }
  for (const { eventId, ...revision } of seed.revisions) {
    await client.reviseEvent(eventId, revision, { idempotencyKey: `seed:revision:${eventId}:${revision.expectedRevision}` });
  }
  return { timelineId, events: seed.events.length, revisions: seed.revisions.length };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const baseUrl = args.find((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--token-file') ?? 'http://127.0.0.1:3000';
  loadSeed(baseUrl, tokenFromCommandLine(args)).then(
    (loaded) =>
      console.log(
        `seed: timeline ${loaded.timelineId} with ${loaded.events} events and ${loaded.revisions} revisions at ${baseUrl}/v1/timelines/${loaded.timelineId}`,
      ),
    (error: Error) => {
      console.error(`seed failed: ${error.message}`);
      process.exit(1);
    },
  );
}
