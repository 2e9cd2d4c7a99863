/**
 * Loads the Japan–NATO seed timeline through the HTTP API. Every write carries
 * an Idempotency-Key, so running it again changes nothing and gets the same answers.
 *
 *   node -r @swc-node/register scripts/seed/load-seed.ts [api base URL]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Seed {
  timeline: { timelineId: string; title: string; description: string; defaultLanguage: string };
  events: ({ eventId: string } & Record<string, unknown>)[];
  revisions: { eventId: string; expectedRevision: number; reason: string; changes: Record<string, unknown> }[];
}

const SEED_FILE = join(__dirname, 'japan-nato.json');

async function write(baseUrl: string, method: 'PUT' | 'POST', path: string, body: unknown, idempotencyKey: string) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status;
}

export async function loadSeed(baseUrl: string): Promise<{ timelineId: string; events: number; revisions: number }> {
  const seed = JSON.parse(readFileSync(SEED_FILE, 'utf8')) as Seed;
  const { timelineId, ...timeline } = seed.timeline;
  await write(baseUrl, 'PUT', `/v1/timelines/${timelineId}`, timeline, `seed:${timelineId}`);
  for (const event of seed.events) {
    await write(baseUrl, 'POST', `/v1/timelines/${timelineId}/events`, event, `seed:event:${event.eventId}`);
  }
  for (const { eventId, ...revision } of seed.revisions) {
    await write(baseUrl, 'POST', `/v1/events/${eventId}/revisions`, revision, `seed:revision:${eventId}:${revision.expectedRevision}`);
  }
  return { timelineId, events: seed.events.length, revisions: seed.revisions.length };
}

if (require.main === module) {
  const baseUrl = process.argv[2] ?? 'http://127.0.0.1:3000';
  loadSeed(baseUrl).then(
    (loaded) => console.log(`seed: timeline ${loaded.timelineId} with ${loaded.events} events and ${loaded.revisions} revisions at ${baseUrl}/v1/timelines/${loaded.timelineId}`),
    (error) => {
      console.error(`seed failed: ${error.message}`);
      process.exit(1);
    },
  );
}
