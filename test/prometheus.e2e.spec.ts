/**
 * The operators' files against a real Prometheus (Debian's `prometheus` server, beside `promtool`): it scrapes
 * both apps of a test service with a bearer token from a file and evaluates observability/prometheus/timeline-rules.yml
 * every second. A partition is broken the way test/poison.e2e.spec.ts breaks one (the database refuses every
 * write of decisions), the stuck-partition alert must go pending, then firing, through Prometheus's HTTP API, and
 * resolve once the partition is mended. While it is broken, every expression of the rules and of the dashboard is
 * evaluated against the live service: none may come back empty (no dead panel, no misspelt metric or label).
 *
 * The rules are the committed file, with every `for:` divided by FOR_SCALE (2m → 4s): the test cannot wait
 * minutes, and what it proves (the expressions, the labels, the transitions) does not depend on how long.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { PrometheusServer, type ActiveAlert } from '@timeline/dev-stack';
import { API_JOB, PROJECTOR_JOB } from '../scripts/observability/alert-rules';
import { dashboardQueries } from '../scripts/observability/dashboard';
import { RULES_FILE } from '../scripts/observability/render';
import { expectEventually } from './support/eventually';
import { HttpClient } from './support/http-client';
import { TestTimelineService } from './support/timeline-service';
import { testToken } from './support/tokens';

const FOR_SCALE = 30;
const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
}

/** `2m` → `4s`: Prometheus durations of the rules (whole units, one unit each) divided by FOR_SCALE. */
function scaledDuration(duration: string): string {
  const units: Record<string, number> = { s: 1, m: 60, h: 3600 };
  const match = /^(\d+)([smh])$/.exec(duration);
  if (!match) throw new Error(`a for: the test cannot scale: ${duration}`);
  return `${Math.max(1, Math.round((Number(match[1]) * units[match[2]]) / FOR_SCALE))}s`;
}

function committedRules(): { groups: { name: string; rules: Rule[] }[] } {
  return parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
}

function rulesWithScaledFor(): string {
  const rules = committedRules();
  for (const group of rules.groups) for (const rule of group.rules) if (rule.for) rule.for = scaledDuration(rule.for);
  return stringify(rules);
}

/**
 * The vector selectors of an expression (`name{…}` or a bare name), for an alert condition that is rightly empty
 * while all is well: each of its selectors must still return series. Function names (followed by `(`), keywords and
 * the label lists of `by (…)`/`on (…)` are not selectors; range brackets are dropped.
 */
function selectorsOf(expr: string): string[] {
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset']);
  const stripped = expr.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ').replace(/\[[^\]]*\]/g, '');
  const found: string[] = [];
  for (const match of stripped.matchAll(/([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?/g)) {
    const next = stripped.slice(match.index + match[0].length).trimStart()[0];
    if (keywords.has(match[1]) || (next === '(' && !match[2])) continue;
    found.push(`${match[1]}${match[2] ?? ''}`);
  }
  return found;
}

/**
 * Label values that appear only when the failure an alert watches for happens: a selector naming one is
 * evaluated without that matcher (its metric and other labels must still be there).
 */
const SHOWN_ONLY_ON_FAILURE = [{ matcher: ',outcome="append_failed"', why: 'a write Kafka did not take' }];

/** A dashboard query as Grafana sends it: variables set to all, `label_values(selector, label)` as its selector. */
function asGrafanaSends(expr: string): string {
  const labelValues = /^label_values\((.*),\s*\w+\)$/.exec(expr);
  return (labelValues ? labelValues[1] : expr).replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*').replaceAll('$partition', '.*');
}

describe('Prometheus with the rules, scraping the service', () => {
  let service: TestTimelineService;
  let projectorHttp: HttpClient;
  let prometheus: PrometheusServer;
  const timelineId = `prometheus-${randomUUID().slice(0, 8)}`;
  const event = () => ({
    eventId: randomUUID(),
    kind: 'summit.attended',
    title: 'NATO summit in Madrid',
    language: 'en',
    validTime: '2022-06-29',
    sources: [{ url: 'https://example.org/madrid', publisher: 'Example', language: 'en' }],
    factuality: 'reported',
  });
  /** What the test saw of the stuck-partition alert, with the time of each step (ISO 8601). */
  const seen: { step: string; at: string; detail?: unknown }[] = [];
  const note = (step: string, detail?: unknown) => seen.push({ step, at: new Date().toISOString(), ...(detail === undefined ? {} : { detail }) });
  let brokenPartition: string;

  const stuckAlert = async (): Promise<ActiveAlert | undefined> =>
    (await prometheus.alerts()).find((alert) => alert.labels.alertname === 'TimelinePartitionStuck');

  beforeAll(async () => {
    service = await TestTimelineService.start({ projector: 'none', env: { DECISION_TIMEOUT_MS: '2000' } });
    const projector = await service.startProjectorInProcess();
    await projector.listen(0, '127.0.0.1');
    const projectorUrl = await projector.getUrl();
    projectorHttp = new HttpClient(projectorUrl);
    prometheus = await PrometheusServer.start({
      jobs: [
        { job: API_JOB, targets: [new URL(service.http.baseUrl).host] },
        { job: PROJECTOR_JOB, targets: [new URL(projectorUrl).host] },
      ],
      rules: rulesWithScaledFor(),
      token: testToken({ scope: 'ops', subject: 'prometheus', expiresInSeconds: 3600 }),
    });
    // Traffic every panel shows: a timeline, writes decided in time, reads, a request without a token.
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Madrid', defaultLanguage: 'en' })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await service.http.post(`/v1/timelines/${timelineId}/events`, event())).status).toBe(201);
    expect((await service.http.get(`/v1/timelines/${timelineId}/events`)).status).toBe(200);
    expect((await service.http.withToken(null).get(`/v1/timelines/${timelineId}/events`)).status).toBe(401);
  });

  afterAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'prometheus-alert-timeline.json'), `${JSON.stringify(seen, null, 2)}\n`);
    await service?.pool.query('drop trigger if exists test_refuse_writes on decisions; drop function if exists test_refuse_writes();').catch(() => undefined);
    await prometheus?.stop();
    await service?.stop();
  });

  test('scrapes both apps with the bearer token from its file', async () => {
    await expectEventually(
      async () => {
        const targets = await prometheus.targets();
        expect(targets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError })).sort((a, b) => a.job.localeCompare(b.job))).toEqual([
          { job: API_JOB, health: 'up', lastError: '' },
          { job: PROJECTOR_JOB, health: 'up', lastError: '' },
        ]);
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(await prometheus.query(`timeline_ready{job=~"${API_JOB}|${PROJECTOR_JOB}"}`)).toHaveLength(2);
  });

  test('a broken partition makes the stuck-partition alert pending, then firing, naming the partition and its failure class', async () => {
    expect(await stuckAlert()).toBeUndefined();
    // As test/poison.e2e.spec.ts: a fault of the database, not of a record, so the batch is retried, never decided.
    await service.pool.query(`
      create function test_refuse_writes() returns trigger language plpgsql as $$
      begin raise exception 'the database is read-only for maintenance' using errcode = '25006'; end $$;
      create trigger test_refuse_writes before insert on decisions for each statement execute function test_refuse_writes();`);
    note('partition broken (decisions refused)');
    expect((await service.http.post(`/v1/timelines/${timelineId}/events`, event())).status).toBe(202);
    const failing = await expectEventually(async () => {
      const response = await projectorHttp.get('/health/ready');
      expect(response.status).toBe(503);
      return response.body.checks.error.projection.failingPartitions[0] as { partition: number };
    });
    brokenPartition = String(failing.partition);

    const pending = await expectEventually(
      async () => {
        const alert = await stuckAlert();
        expect(alert?.state).toBe('pending');
        return alert!;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    note('pending', { activeAt: pending.activeAt, value: pending.value });
    const firing = await expectEventually(
      async () => {
        const alert = await stuckAlert();
        expect(alert?.state).toBe('firing');
        return alert!;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    note('firing', { activeAt: firing.activeAt, value: firing.value, summary: firing.annotations.summary });
    expect(firing.labels).toMatchObject({ partition: brokenPartition, failure_class: 'database', severity: 'critical' });
    expect(firing.annotations.summary).toContain(`Partition ${brokenPartition} of timeline.commands has failed (database)`);
    expect(firing.annotations.runbook_url).toMatch(/\/ops\/runbooks#timelinepartitionstuck$/);
  });

  test('every expression of the rules and of the dashboard returns series from the live service', async () => {
    const rules = committedRules().groups.flatMap((group) => group.rules);
    const empty: { source: string; expr: string; emptySelectors?: string[] }[] = [];
    for (const rule of rules.filter((r) => r.record)) {
      if ((await prometheus.query(rule.expr)).length === 0) empty.push({ source: `record ${rule.record}`, expr: rule.expr });
    }
    for (const { title, expr } of dashboardQueries()) {
      const query = asGrafanaSends(expr);
      if ((await prometheus.query(query)).length === 0) empty.push({ source: `dashboard: ${title}`, expr: query });
    }
    // An alert's condition is rightly empty while what it watches for does not happen: then each of its selectors
    // must return series (SHOWN_ONLY_ON_FAILURE names the label values that exist only when it does).
    for (const rule of rules.filter((r) => r.alert)) {
      if ((await prometheus.query(rule.expr)).length > 0) continue;
      const emptySelectors: string[] = [];
      for (const selector of selectorsOf(rule.expr)) {
        const query = SHOWN_ONLY_ON_FAILURE.reduce((q, { matcher }) => q.replace(matcher, ''), selector);
        if ((await prometheus.query(query)).length === 0) emptySelectors.push(query);
      }
      if (emptySelectors.length > 0) empty.push({ source: `alert ${rule.alert}`, expr: rule.expr, emptySelectors });
    }
    expect(empty).toEqual([]);
  });

  test('the selector check would catch a misspelt metric or label value', async () => {
    expect(selectorsOf('sum by (instance) (rate(timeline_http_requests_recieved_total{job="timeline-api"}[5m])) > 0')).toEqual([
      'timeline_http_requests_recieved_total{job="timeline-api"}',
    ]);
    expect(await prometheus.query('timeline_http_requests_recieved_total{job="timeline-api"}')).toEqual([]);
    expect(await prometheus.query('timeline_ready{job="timeline-apii"}')).toEqual([]);
  });

  test('once the partition moves again, the alert resolves', async () => {
    await service.pool.query('drop trigger test_refuse_writes on decisions; drop function test_refuse_writes();');
    note('partition mended (trigger dropped)');
    await expectEventually(async () => expect((await projectorHttp.get('/health/ready')).status).toBe(200), { timeoutMs: 30_000 });
    await expectEventually(async () => expect(await stuckAlert()).toBeUndefined(), { timeoutMs: 30_000, intervalMs: 100 });
    note('resolved (no longer active)');
    console.log(
      `TimelinePartitionStuck on partition ${brokenPartition}, as the test saw it:\n${seen.map((s) => `  ${s.at}  ${s.step}${s.detail ? ` ${JSON.stringify(s.detail)}` : ''}`).join('\n')}`,
    );
    const steps = seen.map((s) => s.step.split(' ')[0]);
    expect(steps).toEqual(['partition', 'pending', 'firing', 'partition', 'resolved']);
  });
});
