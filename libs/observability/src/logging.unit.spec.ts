import { afterEach, describe, expect, test } from '@jest/globals';
import { Body, Controller, Get, Logger as NestLogger, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TimelineConfig } from '@timeline/config';
import { Logger, LoggerModule } from 'nestjs-pino';
import { Writable } from 'node:stream';
import { loggingParams, maskUrlPasswords, readableLogStream } from './logging';

@Controller('things')
class ThingsController {
  private readonly logger = new NestLogger('Things');

  @Post()
  async create(@Body() body: unknown) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.logger.log('storing at postgres://timeline:hunter2@db:5432/timeline');
    return { stored: typeof body };
  }
}

@Controller('health')
class HealthController {
  @Get('live')
  live() {
    return { status: 'ok' };
  }
}

function sinkOf(lines: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
}

async function appLoggingTo(lines: string[], { level = 'info', readable = false } = {}): Promise<NestFastifyApplication> {
  const sink = sinkOf(lines);
  const config = TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', LOG_LEVEL: level });
  @Module({
    imports: [LoggerModule.forRoot(loggingParams(config, 'test', readable ? readableLogStream(sink) : sink))],
    controllers: [ThingsController, HealthController],
  })
  class TestModule {}
  const adapter = new FastifyAdapter({ requestIdHeader: 'x-request-id', genReqId: () => crypto.randomUUID() });
  const app = await NestFactory.create<NestFastifyApplication>(TestModule, adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

describe('JSON logs', () => {
  test('every line of a request carries its request id; no body, no secret header, no URL password', async () => {
    const lines: string[] = [];
    const app = await appLoggingTo(lines);
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/things',
        headers: { authorization: 'Bearer top-secret-token', cookie: 'session=top-secret-cookie', 'x-request-id': 'req-42' },
        payload: { note: 'body-marker-never-logged' },
      });
      expect(response.statusCode).toBe(201);
    } finally {
      await app.close();
    }
    const entries = lines.map((line) => JSON.parse(line) as Record<string, any>);
    const ofRequest = entries.filter((entry) => entry.requestId === 'req-42');
    expect(ofRequest.map((entry) => entry.msg)).toEqual(expect.arrayContaining([expect.stringContaining('storing at'), 'request completed']));
    const storing = ofRequest.find((entry) => String(entry.msg).startsWith('storing at'))!;
    expect(storing).toMatchObject({ level: 'info', context: 'Things', app: 'test' });
    const completed = ofRequest.find((entry) => entry.msg === 'request completed')!;
    expect(completed.req.headers.authorization).toBe('[redacted]');
    const text = lines.join('\n');
    expect(text).not.toContain('top-secret');
    expect(text).not.toContain('body-marker-never-logged');
    expect(text).not.toContain('hunter2');
  });
});

describe('health probes', () => {
  test('are logged at debug: not at all at the default level info, one debug line at debug', async () => {
    for (const [level, expected] of [
      ['info', []],
      ['debug', ['debug']],
    ] as const) {
      const lines: string[] = [];
      const app = await appLoggingTo(lines, { level });
      try {
        expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      } finally {
        await app.close();
      }
      const probeLines = lines.map((line) => JSON.parse(line) as Record<string, any>).filter((entry) => entry.req?.url === '/health/live');
      expect({ level, logged: probeLines.map((entry) => entry.level) }).toEqual({ level, logged: expected });
    }
  });
});

describe('where lines go', () => {
  const stdout = process.stdout as { isTTY?: boolean };
  const wasTTY = stdout.isTTY;
  afterEach(() => {
    stdout.isTTY = wasTTY;
  });

  test('a terminal gets a readable stream, anything else JSON on stdout (no stream of ours)', () => {
    const config = TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true' });
    stdout.isTTY = true;
    expect(Array.isArray(loggingParams(config, 'test').pinoHttp)).toBe(true);
    stdout.isTTY = false;
    expect(Array.isArray(loggingParams(config, 'test').pinoHttp)).toBe(false);
  });

  test('readable lines: a request on one line, a message with its source, no JSON, secrets still hidden', async () => {
    const lines: string[] = [];
    const app = await appLoggingTo(lines, { readable: true });
    try {
      await app.inject({ method: 'POST', url: '/things', headers: { authorization: 'Bearer top-secret-token' }, payload: {} });
    } finally {
      await app.close();
    }
    const text = lines.join('\n');
    expect(text).toMatch(/INFO.*\[test\] POST \/things 201 \d+ms/);
    expect(text).toContain('[test Things] storing at postgres://timeline:***@db:5432/timeline');
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain('top-secret');
  });
});

describe('maskUrlPasswords', () => {
  test('keeps the user and host, hides the password', () => {
    expect(maskUrlPasswords('connect postgres://app:s3cr%40t@db:5432/x failed')).toBe('connect postgres://app:***@db:5432/x failed');
    expect(maskUrlPasswords('postgres://app@db/x')).toBe('postgres://app@db/x');
  });
});
