/**
 * The operators' files in observability/: the Prometheus rules pass `promtool check rules` and their unit tests
 * (`promtool test rules`: a case that fires each alert and one that keeps it quiet), every alert says how bad it
 * is, what fails and where its runbook is, and the committed files are what scripts/observability renders.
 * That every expression returns series from a live service is test/prometheus.e2e.spec.ts's part.
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { alertingRules, DEFAULT_RUNBOOKS_URL } from '../scripts/observability/alert-rules';
import { ALERT_CASES } from '../scripts/observability/alert-rules-tests';
import { dashboardQueries, timelineDashboard } from '../scripts/observability/dashboard';
import { RUNBOOKS_PAGE, renderRunbooksPage } from '../scripts/observability/runbooks-page';
import { DASHBOARD_FILE, renderDashboard, renderRules, renderRuleTests, RULES_FILE, RULES_TEST_FILE } from '../scripts/observability/render';
import { headingAnchors } from './support/markdown-anchors';

/** promtool (Debian's `prometheus` package, which `npm test` installs): its exit status and what it printed. */
function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: path.dirname(RULES_FILE), encoding: 'utf8' });
  if (result.error) throw new Error(`promtool did not run (${result.error.message}): install it with apt-get install prometheus`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the Prometheus rules (observability/prometheus/timeline-rules.yml)', () => {
  const alerts = alertingRules();

  test('promtool check rules accepts them', () => {
    const { status, output } = promtool('check', 'rules', path.basename(RULES_FILE));
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('promtool test rules passes: every case fires its alert with its summary, or keeps it quiet', () => {
    const { status, output } = promtool('test', 'rules', path.basename(RULES_TEST_FILE));
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('every alert has a case that fires it and one that keeps it quiet', () => {
    expect(ALERT_CASES.map((c) => c.alert).sort()).toEqual(alerts.map((a) => a.alert).sort());
    for (const c of ALERT_CASES) expect({ alert: c.alert, quietWhy: c.quiet.why.length > 0 }).toEqual({ alert: c.alert, quietWhy: true });
  });

  test('every alert has a severity, a summary, a description and a runbook link', () => {
    for (const { alert, labels, annotations } of alerts) {
      expect({ alert, severity: labels.severity }).toEqual({ alert, severity: expect.stringMatching(/^(critical|warning)$/) });
      expect({ alert, summary: annotations.summary.trim() !== '', description: annotations.description.trim() !== '' }).toEqual({
        alert,
        summary: true,
        description: true,
      });
      expect(annotations.runbook_url).toBe(`${DEFAULT_RUNBOOKS_URL}#${alert.toLowerCase()}`);
    }
  });

  test('a firing alert that concerns one partition or instance names it in its summary', () => {
    for (const { alert, fires } of ALERT_CASES) {
      const named = ['partition', 'instance', 'operation'].filter((label) => fires.labels[label] !== undefined);
      for (const label of named)
        expect({ alert, label, summary: fires.summary }).toEqual({ alert, label, summary: expect.stringContaining(fires.labels[label]) });
    }
  });

  test('every runbook link names a heading of docs/runbooks.md', () => {
    const anchors = headingAnchors(readFileSync(path.join(__dirname, '..', 'docs', 'runbooks.md'), 'utf8'));
    const missing = alerts.map((a) => a.annotations.runbook_url.split('#')[1]).filter((anchor) => !anchors.has(anchor));
    expect(missing).toEqual([]);
  });

  test('the runbooks page the api serves has the same headings, and is what docs/runbooks.md renders; when this fails, run `npm run observability`', () => {
    const page = readFileSync(RUNBOOKS_PAGE, 'utf8');
    expect(page).toBe(renderRunbooksPage());
    const ids = new Set([...page.matchAll(/<h\d id="([^"]+)"/g)].map((match) => match[1]));
    expect(ids).toEqual(headingAnchors(readFileSync(path.join(__dirname, '..', 'docs', 'runbooks.md'), 'utf8')));
  });

  test('the committed rules and their tests are what scripts/observability renders; when this fails, run `npm run observability`', () => {
    expect(readFileSync(RULES_FILE, 'utf8')).toBe(renderRules());
    expect(readFileSync(RULES_TEST_FILE, 'utf8')).toBe(renderRuleTests());
  });
});

describe("the compose profile's Prometheus configuration (observability/prometheus/prometheus.yml)", () => {
  test('promtool check config accepts it, with the rules and the token secret where the containers mount them', () => {
    // The container's paths, pointed at a temporary copy: the rules file as committed, and a token file.
    const dir = mkdtempSync(path.join(tmpdir(), 'timeline-prometheus-config-'));
    try {
      writeFileSync(path.join(dir, 'ops.token'), 'a token');
      const config = readFileSync(path.join(path.dirname(RULES_FILE), 'prometheus.yml'), 'utf8')
        .replaceAll('/etc/prometheus/rules/timeline-rules.yml', RULES_FILE)
        .replaceAll('/run/secrets/timeline-ops-token', path.join(dir, 'ops.token'));
      writeFileSync(path.join(dir, 'prometheus.yml'), config);
      const { status, output } = promtool('check', 'config', path.join(dir, 'prometheus.yml'));
      expect({ status, output }).toEqual({ status: 0, output: expect.stringMatching(/SUCCESS: \d+ rules found/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Grafana dashboard (observability/grafana/timeline-dashboard.json)', () => {
  const dashboard = timelineDashboard();
  const panels = (dashboard.panels as { type: string; title: string; fieldConfig?: { defaults: { unit?: string } } }[]).filter((p) => p.type !== 'row');

  test('every panel has a unit and at least one query', () => {
    expect(panels.filter((p) => !p.fieldConfig?.defaults.unit).map((p) => p.title)).toEqual([]);
    const titlesWithQueries = new Set(dashboardQueries(dashboard).map((q) => q.title));
    expect(panels.filter((p) => !titlesWithQueries.has(p.title)).map((p) => p.title)).toEqual([]);
  });

  test('has a variable per instance and per partition, and every panel query filters by one of them or reads a service-wide recording', () => {
    const names = (dashboard.templating as { list: { name: string }[] }).list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['instance', 'partition']));
    const unfiltered = dashboardQueries(dashboard)
      .filter((q) => !q.title.startsWith('variable '))
      .filter((q) => !/\$(instance|partition)\b/.test(q.expr) && !/^(operation:|timeline_relay_lag_\w+:max)/.test(q.expr));
    expect(unfiltered).toEqual([]);
  });

  test('the committed dashboard is what scripts/observability renders; when this fails, run `npm run observability`', () => {
    expect(readFileSync(DASHBOARD_FILE, 'utf8')).toBe(renderDashboard());
  });
});
