import { describe, expect, test } from '@jest/globals';
import { Body, Controller, Logger as NestLogger, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TimelineConfig } from '@timeline/config';
import { Logger, LoggerModule } from 'nestjs-pino';
import { Writable } from 'node:stream';
import { loggingParams, maskUrlPasswords } from './logging';

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

async function appLoggingTo(lines: string[]): Promise<NestFastifyApplication> {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  @Module({
    imports: [LoggerModule.forRoot(loggingParams(TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', LOG_LEVEL: 'info' }), 'test', sink))],
    controllers: [ThingsController],
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
    expect(ofRequest.map((entry) => entry.msg)).toEqual(
      expect.arrayContaining([expect.stringContaining('storing at'), 'request completed']),
    );
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

describe('maskUrlPasswords', () => {
  test('keeps the user and host, hides the password', () => {
    expect(maskUrlPasswords('connect postgres://app:s3cr%40t@db:5432/x failed')).toBe('connect postgres://app:***@db:5432/x failed');
    expect(maskUrlPasswords('postgres://app@db/x')).toBe('postgres://app@db/x');
  });
});
