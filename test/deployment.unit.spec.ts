/**
 * The deployment files, checked without a Docker engine: docker-compose.yml against the Compose
 * Specification's JSON Schema (the copy dclint ships) and against what issue 12 asks of it, the
 * Dockerfile's shape, and `engines` against what the installed dependencies declare.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import * as semver from 'semver';
import { parse } from 'yaml';

const ROOT = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
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
      expect.arrayContaining([expect.stringMatching(/^postgres:/), expect.stringMatching(/^apache\/kafka:/)]),
    );
    for (const { image } of pulled) expect(image).toMatch(/^[a-z/]+:\d+\.\d+(\.\d+)?(-[a-z]+)?$/);
  });

  test('publishes the api port only, on an address that defaults to loopback', () => {
    const published = Object.entries(compose.services).filter(([, service]) => service.ports?.length);
    expect(published.map(([name]) => name)).toEqual(['api']);
    expect(compose.services.api.ports).toEqual(['${API_PUBLISH_ADDRESS:-127.0.0.1}:3000:3000']);
    // The projector's admin endpoint answers inside its container only.
    expect(compose.services.projector.environment?.HTTP_HOST).toBe('127.0.0.1');
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
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual(['kafka-data', 'postgres-data']);
    expect(compose.services.postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql']);
    expect(compose.services.kafka.volumes).toEqual(['kafka-data:/var/lib/kafka/data']);
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
