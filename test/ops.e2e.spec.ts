import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadSeed } from '../scripts/seed/load-seed';
import { expectEventually } from './support/eventually';
import { OpenApiContract } from './support/openapi-contract';
import { TestTimelineService } from './support/timeline-service';
import { freePort } from '@timeline/dev-stack';
import { bearer, testToken } from './support/tokens';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', 'test-artifacts');
const BURST = 40;

/** Reads a figure of the page, `1,234` → 1234. */
async function figure(page: Page, testId: string): Promise<number> {
  const text = await page.getByTestId(testId).textContent();
  const value = Number((text ?? '').replace(/,/g, ''));
  if (Number.isNaN(value)) throw new Error(`${testId} shows ${text}`);
  return value;
}

/**
 * The ops page in headless Chromium against a running api and projector:
 * it draws the seed timeline with vis-timeline, and its lag figures follow
 * the projector as it stops and catches up.
 */
describe('the ops page', () => {
  let service: TestTimelineService;
  let browser: Browser;
  let page: Page;
  let seedTitles: string[];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install -y --no-install-recommends chromium; .ci/run does) or set CHROMIUM_PATH`,
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    // A read replica that nothing answers at: the page lists it out of the rotation, with its error, and reads go to the primary.
    const unreachableReplica = `postgres://postgres@127.0.0.1:${await freePort()}/timeline`;
    service = await TestTimelineService.start({ projector: 'process', env: { DECISION_TIMEOUT_MS: '500', DATABASE_READ_URLS: unreachableReplica } });
    const seed = await loadSeed(service.http.baseUrl, testToken());
    // A stale revision, so that there is a rejection to show.
    const stale = await service.http.post('/v1/events/0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1001/revisions', {
      changes: { factuality: 'disputed' },
      reason: 'an edit made on an old copy',
      expectedRevision: 99,
    });
    expect(stale.status).toBe(409);
    await service.waitForProjection();
    const events = await service.http.get(`/v1/timelines/${seed.timelineId}/events?limit=500`, { 'accept-language': 'en' });
    seedTitles = events.body.events.map((event: { title: string }) => event.title);
    expect(seedTitles.length).toBeGreaterThan(0);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, locale: 'en-GB', colorScheme: 'light' });
  });
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  test('the status it polls is the one documented in the OpenAPI document', async () => {
    const contract = new OpenApiContract((await service.http.get('/openapi.json')).body);
    const status = await service.http.get('/ops/status');
    expect(contract.check('GET', '/ops/status', status)).toEqual([]);
    expect(status.body.decisions).toMatchObject({ rejected: 1, rejectedByReason: [{ reason: 'revision_conflict', count: 1 }] });
    expect(status.body.timelines).toEqual([expect.objectContaining({ timelineId: 'japan-nato', eventCount: seedTitles.length })]);
    expect(status.body.readReplicas).toEqual([
      expect.objectContaining({ name: 'replica-0', inRotation: false, lastError: expect.stringMatching(/ECONNREFUSED/) }),
    ]);
  });

  test('loads, shows the seed timeline drawn with vis-timeline, and the rejection with its reason', async () => {
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    page.on('requestfailed', (request) => failures.push(`${request.url()}: ${request.failure()?.errorText}`));
    // The token travels in the fragment, which the browser never sends; the page keeps it in sessionStorage.
    await page.goto(`${service.http.baseUrl}/ops?timeline=japan-nato#token=${testToken({ scope: 'ops timelines:read' })}`);

    await page.locator(`#timeline[data-event-count="${seedTitles.length}"]`).waitFor({ timeout: 15_000 });
    const drawn = await page.locator('#timeline .vis-item-content').allTextContents();
    expect(drawn.sort()).toEqual([...seedTitles].sort());
    await expect(page.getByTestId('rejection-row').first().textContent()).resolves.toContain('revision_conflict');
    await expectEventually(async () => expect(await figure(page, 'lag-records')).toBe(0));
    expect(await figure(page, 'accepted')).toBeGreaterThanOrEqual(seedTitles.length + 1);
    await expect(page.getByTestId('replica-rotation').textContent()).resolves.toBe('out of rotation');
    expect(failures).toEqual([]);
  });

  test('its lag figures rise while the projector is stopped and fall back to 0 once it catches up', async () => {
    const acceptedBefore = await figure(page, 'accepted');
    await service.killProjectorProcess();
    const writes = await Promise.all(
      Array.from({ length: BURST }, (_, n) =>
        service.http.post('/v1/timelines/japan-nato/events', {
          kind: 'statement.reported',
          title: `Statement ${n + 1}`,
          language: 'en',
          validTime: `2024-0${(n % 9) + 1}`,
          factuality: 'reported',
          eventId: randomUUID(),
        }),
      ),
    );
    // No projector: every write waited out the decision bound.
    expect(new Set(writes.map((write) => write.status))).toEqual(new Set([202]));

    await expectEventually(async () => expect(await figure(page, 'lag-records')).toBe(BURST), { timeoutMs: 10_000 });
    // A card that is not ok links to its runbook; it goes once the card is ok again (below).
    const lagRunbook = page.locator('#card-lag [data-testid="runbook-link"]');
    await expect(lagRunbook.isVisible()).resolves.toBe(true);
    await expect(lagRunbook.getAttribute('href')).resolves.toBe('/ops/runbooks#timelineprojectionlagrecords');
    const rows = await page.getByTestId('partition-row').all();
    const lagByPartition = await Promise.all(rows.map(async (row) => Number(await row.getAttribute('data-lag'))));
    expect(lagByPartition.reduce((sum, lag) => sum + lag, 0)).toBe(BURST);
    // How long the partition has waited since its last decided record.
    await expectEventually(async () => expect(await page.getByTestId('lag-seconds').textContent()).toMatch(/^\d+(\.\d)? s behind$/), { timeoutMs: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'ops-page-lagging.png'), fullPage: true });

    await service.startProjectorProcess();
    await expectEventually(async () => expect(await figure(page, 'lag-records')).toBe(0), { timeoutMs: 30_000, intervalMs: 200 });
    await expect(lagRunbook.isVisible()).resolves.toBe(false);
    await expectEventually(async () => expect(await figure(page, 'accepted')).toBe(acceptedBefore + BURST), { timeoutMs: 10_000 });
    expect(await figure(page, 'throughput')).toBeGreaterThan(0);
    // The timeline is drawn again with the new events.
    await page.locator(`#timeline[data-event-count="${seedTitles.length + BURST}"]`).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'ops-page.png'), fullPage: true });
  });

  test('shows a failing partition with its error, and clears it once the partition moves again', async () => {
    // The database refuses every decision for a while, as in maintenance: a transient fault, retried.
    await service.pool.query(`
      create function test_refuse_writes() returns trigger language plpgsql as $$
      begin raise exception 'the database is read-only for maintenance' using errcode = '25006'; end $$;
      create trigger test_refuse_writes before insert on decisions for each statement execute function test_refuse_writes();`);
    try {
      const pending = await service.http.post('/v1/timelines/japan-nato/events', {
        kind: 'statement.reported',
        title: 'Written while the database refuses',
        language: 'en',
        validTime: '2024',
        factuality: 'reported',
      });
      expect(pending.status).toBe(202);
      const failing = page.getByTestId('failing-partition');
      await failing.first().waitFor({ timeout: 15_000 });
      expect(await failing.count()).toBe(1);
      await expect(failing.first().textContent()).resolves.toMatch(
        /partition \d+ fails since .*\(\d+ attempts, database\): 25006: the database is read-only for maintenance/,
      );
      // Its runbook, served by the api without a token, at the heading of the stuck-partition alert.
      const runbook = await failing.first().getByTestId('runbook-link').getAttribute('href');
      expect(runbook).toBe('/ops/runbooks#timelinepartitionstuck');
      const runbooks = await fetch(new URL(runbook!, service.http.baseUrl));
      expect(runbooks.status).toBe(200);
      expect(await runbooks.text()).toContain('<h3 id="timelinepartitionstuck">TimelinePartitionStuck</h3>');
      const partition = await failing.first().getAttribute('data-partition');
      await expect(page.locator(`[data-testid="partition-row"][data-partition="${partition}"]`).getAttribute('class')).resolves.toBe('failing');
      await page.screenshot({ path: path.join(ARTIFACTS, 'ops-page-failing-partition.png'), fullPage: true });
    } finally {
      await service.pool.query('drop trigger test_refuse_writes on decisions; drop function test_refuse_writes();');
    }
    await page.getByTestId('partition-failures').waitFor({ state: 'hidden', timeout: 30_000 });
    expect(await page.locator('[data-testid="partition-row"].failing').count()).toBe(0);
    await expectEventually(async () => expect(await figure(page, 'lag-records')).toBe(0), { timeoutMs: 10_000 });
  });

  test('shows the writes waiting on this api instance against its admission bound, and those refused', async () => {
    await expectEventually(async () => expect(await figure(page, 'admission-waiting')).toBe(0), { timeoutMs: 10_000 });
    expect(await page.getByTestId('admission-refused').textContent()).toBe('0');
    expect(await page.locator('#admission-max').textContent()).toBe(`of ${service.config.admission.maxWaiting}`);
  });

  test('counts the clients of the change stream', async () => {
    expect(await figure(page, 'stream-clients')).toBe(0);
    const leave = new AbortController();
    const stream = await fetch(`${service.http.baseUrl}/v1/stream`, { signal: leave.signal, headers: bearer() });
    expect(stream.status).toBe(200);
    await expectEventually(async () => expect(await figure(page, 'stream-clients')).toBe(1), { timeoutMs: 10_000 });
    leave.abort();
    await expectEventually(async () => expect(await figure(page, 'stream-clients')).toBe(0), { timeoutMs: 10_000 });
  });

  test('shows a read-model rebuild replaying into its own schema, until it has caught up', async () => {
    expect(await page.getByTestId('rebuild-progress').textContent()).toBe('idle');
    // A projector on a schema named as the rebuild names its own: what a rebuild's replay looks like from PostgreSQL.
    const schema = `${service.config.database.schema}_rebuild_20261128000000`;
    const rebuilder = await service.startProjectorInProcess({ DATABASE_SCHEMA: schema, KAFKA_CONSUMER_GROUP: `ops-rebuild-${randomUUID()}` });
    try {
      await expectEventually(async () => expect(await page.getByTestId('rebuild-detail').textContent()).toContain('caught up'), { timeoutMs: 30_000 });
      expect(await figure(page, 'rebuild-progress')).toBe(100);
      await page.screenshot({ path: path.join(ARTIFACTS, 'ops-page-rebuild.png') });
    } finally {
      await rebuilder.close();
      await service.pool.query(`drop schema "${schema}" cascade`);
    }
    await expectEventually(async () => expect(await page.getByTestId('rebuild-progress').textContent()).toBe('idle'), { timeoutMs: 10_000 });
  });

  test('is a shell without data: the token leaves the address bar, and a missing or weak token is said on the page', async () => {
    expect(new URL(page.url()).hash).toBe('');
    const shell = await service.http.withToken(null).get('/ops');
    expect(shell.status).toBe(200);
    expect(shell.body).not.toContain('japan-nato');
    const refused = await browser.newPage();
    try {
      // Headless Chromium dismisses the prompt for a token: the page is left without one.
      await refused.goto(`${service.http.baseUrl}/ops`);
      await refused.locator('#access-message[data-status="401"]').waitFor({ timeout: 10_000 });
      expect(await refused.getByTestId('access-message').textContent()).toContain('No token (401)');
      // Another query, so that this is a new document rather than a change of fragment.
      await refused.goto(`${service.http.baseUrl}/ops?timeline=japan-nato#token=${testToken({ scope: 'timelines:read' })}`);
      await refused.locator('#access-message[data-status="403"]').waitFor({ timeout: 10_000 });
      expect(await refused.getByTestId('access-message').textContent()).toContain('needs scope ops');
    } finally {
      await refused.close();
    }
  });

  test('reads as well in a dark colour scheme', async () => {
    const dark = await browser.newPage({ viewport: { width: 1440, height: 1100 }, locale: 'en-GB', colorScheme: 'dark' });
    try {
      await dark.goto(`${service.http.baseUrl}/ops?timeline=japan-nato#token=${testToken({ scope: 'ops timelines:read' })}`);
      await dark.locator('#timeline[data-event-count]').waitFor({ timeout: 15_000 });
      await dark.locator('#freshness[data-state="live"]').waitFor({ timeout: 5_000 });
      await dark.screenshot({ path: path.join(ARTIFACTS, 'ops-page-dark.png'), fullPage: true });
    } finally {
      await dark.close();
    }
  });
});
