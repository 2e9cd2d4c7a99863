/**
 * The deployment files, checked without a Docker engine: docker-compose.yml against the Compose
 * Specification's JSON Schema (the copy dclint ships) and against what issue 12 asks of it, the
 * Dockerfile's shape, the `observability` profile (Prometheus and Grafana with the files of observability/), and
 * `engines` against what the installed dependencies declare.
 */
import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import * as semver from 'semver';
import { parse } from 'yaml';
import { API_JOB, PROJECTOR_JOB } from '../scripts/observability/alert-rules';

const ROOT = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  profiles?: string[];
  secrets?: string[];
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  restart?: string;
  command?: string[];
  volumes?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as ComposeFile;

describe('docker-compose.yml', () => {
  test('is valid against the Compose Specification JSON Schema', () => {
    const schemaPath = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    // Its `$schema` names draft-07 by an address Ajv does not know; Ajv checks draft-07 by default.
    const { $schema: _draft07, ...schema } = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  test('runs the api and the projector from the image this repository builds', () => {
    for (const name of ['api', 'projector']) {
      expect(compose.services[name].build).toBe('.');
      expect(compose.services[name].command?.join(' ')).toBe(`node dist/apps/${name}/src/main.js`);
    }
  });

  test('pins every image it pulls to a version', () => {
    const pulled = Object.values(compose.services).filter((service) => !service.build);
    expect(pulled.map((service) => service.image)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^postgres:/),
        expect.stringMatching(/^apache\/kafka:/),
        expect.stringMatching(/^prom\/prometheus:/),
        expect.stringMatching(/^grafana\/grafana:/),
      ]),
    );
    for (const { image } of pulled) expect(image).toMatch(/^[a-z/]+:v?\d+\.\d+(\.\d+)?(-[a-z]+)?$/);
  });

  test('publishes the api port and (observability profile) Grafana only, on addresses that default to loopback', () => {
    const published = Object.entries(compose.services).filter(([, service]) => service.ports?.length);
    expect(published.map(([name]) => name)).toEqual(['api', 'grafana']);
    expect(compose.services.api.ports).toEqual(['${API_PUBLISH_ADDRESS:-127.0.0.1}:3000:3000']);
    expect(compose.services.grafana.ports).toEqual(['${GRAFANA_PUBLISH_ADDRESS:-127.0.0.1}:3030:3000']);
    // The projector's health and metrics answer inside the compose network (for Prometheus), never published.
    expect(compose.services.projector.environment?.HTTP_HOST).toBe('0.0.0.0');
    // The admin listener stays on the container's loopback, and nothing publishes it.
    expect(compose.services.projector.environment?.ADMIN_HOST).toBe('127.0.0.1');
    expect(compose.services.projector.ports).toBeUndefined();
  });

  test('has no trust authentication and takes the database password from the environment', () => {
    expect(composeText).not.toMatch(/trust/i);
    expect(compose.services.postgres.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(compose.services.api.environment?.DATABASE_URL).toContain('${POSTGRES_PASSWORD:?');
  });

  test('gives every long-running service a healthcheck and a restart policy, and the data named volumes', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'seed') continue; // runs once
      expect({ name, healthcheck: Boolean(service.healthcheck?.test.length) }).toEqual({ name, healthcheck: true });
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
    }
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['grafana-data', 'kafka-data', 'postgres-data', 'prometheus-data']);
    expect(compose.services.postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql']);
    expect(compose.services.kafka.volumes).toEqual(['kafka-data:/var/lib/kafka/data']);
  });
});

describe('the observability profile of docker-compose.yml', () => {
  const { prometheus, grafana } = compose.services;
  const mounted = (service: ComposeService) =>
    (service.volumes ?? []).filter((volume) => volume.startsWith('./')).map((volume) => ({ file: volume.split(':')[0], at: volume.split(':')[1] }));

  test('runs Prometheus and Grafana only when the profile is asked for', () => {
    const profiled = Object.entries(compose.services).filter(([, service]) => service.profiles);
    expect(Object.fromEntries(profiled.map(([name, service]) => [name, service.profiles]))).toEqual({
      prometheus: ['observability'],
      grafana: ['observability'],
    });
  });

  test("mounts files that are in the repository: the rules, Prometheus's configuration, the dashboard and its provisioning", () => {
    const files = [...mounted(prometheus), ...mounted(grafana)];
    expect(files.map(({ file }) => file).sort()).toEqual([
      './observability/grafana/provisioning',
      './observability/grafana/timeline-dashboard.json',
      './observability/prometheus/prometheus.yml',
      './observability/prometheus/timeline-rules.yml',
    ]);
    for (const { file } of files) expect({ file, exists: existsSync(path.join(ROOT, file)) }).toEqual({ file, exists: true });
    const providers = parse(read('observability/grafana/provisioning/dashboards/timeline.yml')) as { providers: { options: { path: string } }[] };
    const dashboardAt = mounted(grafana).find(({ file }) => file.endsWith('timeline-dashboard.json'))!.at;
    expect(path.dirname(dashboardAt)).toBe(providers.providers[0].options.path);
    expect(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(dashboardAt);
  });

  test("Prometheus loads the mounted rules and scrapes both apps in the jobs the rules expect, with the token secret's file", () => {
    const config = parse(read('observability/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; authorization: { type: string; credentials_file: string }; static_configs: { targets: string[] }[] }[];
    };
    const rulesAt = mounted(prometheus).find(({ file }) => file.endsWith('timeline-rules.yml'))!.at;
    expect(config.rule_files).toEqual([rulesAt]);
    expect(prometheus.secrets).toEqual(['timeline-ops-token']);
    expect(compose.secrets?.['timeline-ops-token'].file).toBe('${TIMELINE_OPS_TOKEN_FILE:-./timeline-ops.token}');
    expect(
      config.scrape_configs.map(({ job_name, authorization, static_configs }) => ({ job_name, authorization, targets: static_configs[0].targets })),
    ).toEqual([
      { job_name: API_JOB, authorization: { type: 'Bearer', credentials_file: '/run/secrets/timeline-ops-token' }, targets: ['api:3000'] },
      { job_name: PROJECTOR_JOB, authorization: { type: 'Bearer', credentials_file: '/run/secrets/timeline-ops-token' }, targets: ['projector:3001'] },
    ]);
    expect(compose.services.api.environment?.HTTP_PORT).toBe('3000');
    expect(compose.services.projector.environment?.PROJECTOR_HTTP_PORT).toBe('3001');
  });

  test('Grafana reads the provisioned Prometheus, and lets visitors view, not edit or log in', () => {
    const datasources = parse(read('observability/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { type: string; url: string }[] };
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(grafana.environment).toMatchObject({ GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer', GF_AUTH_DISABLE_LOGIN_FORM: 'true' });
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  test('is multi-stage on a Node LTS image, and its runtime stage installs production dependencies only', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:(22|24)-[a-z]+-slim$/m);
    expect(stages).toHaveLength(2);
    const runtime = stages[1];
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
  });

  test('runs as a non-root user with a healthcheck', () => {
    const runtime = stages[1];
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('CMD ["node"'));
  });
});

describe('package.json engines', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };

  test('every installed package accepts the oldest Node version the engines allow', () => {
    const oldest = semver.minVersion(engines)!.version;
    const refusing = Object.entries(lock.packages)
      .map(([name, entry]) => ({ name, node: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
      .filter(({ node }) => node !== undefined && !semver.satisfies(oldest, node));
    expect(refusing).toEqual([]);
  });

  test("this machine's Node version is one the engines allow", () => {
    expect(semver.satisfies(process.version, engines)).toBe(true);
  });
});
