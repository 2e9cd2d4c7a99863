import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TimelineConfig } from '@timeline/config';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type DestinationStream } from 'pino';

/** Headers whose values never reach a log line. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];

/** `scheme://user:password@host` → `scheme://user:***@host`: a connection string in a message keeps no password. */
export function maskUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, '$1:***@');
}

/** Requests too frequent to log one line each (health probes, scrapes); their context stays for anything else logged. */
function isProbe(url: string | undefined): boolean {
  return /^\/(health|metrics)(\/|\?|$)/.test(url ?? '');
}

/**
 * nestjs-pino settings: one JSON object per line, ISO time, level names, and
 * every line logged while a request is handled carries `requestId`, Fastify's
 * request id, the one problem details echo. No bodies are logged; secret
 * headers are redacted and URL passwords masked.
 */
export function loggingParams(config: TimelineConfig, app: string, destination?: DestinationStream): Params {
  const options: NonNullable<Params['pinoHttp']> & object = {
    level: config.logLevel,
    base: { app, pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: {
      paths: [...SECRET_HEADERS.map((name) => `req.headers["${name}"]`), 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? maskUrlPasswords(arg) : arg)) as Parameters<typeof method>);
      },
    },
    // Fastify's middleware layer hands over the raw request with Fastify's id on it.
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? randomUUID(),
    customAttributeKeys: { reqId: 'requestId' },
    // Lines logged during a request carry its id, not the whole request again.
    quietReqLogger: true,
    autoLogging: { ignore: (req: IncomingMessage) => isProbe(req.url) },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
      error || res.statusCode >= 500 ? 'error' : 'info',
    serializers: {
      req: (req: { method: string; url: string; headers: Record<string, unknown>; remoteAddress?: string }) => ({
        method: req.method,
        url: req.url,
        headers: req.headers,
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number; headers: Record<string, unknown> }) => ({ statusCode: res.statusCode, headers: res.headers }),
    },
  };
  return { pinoHttp: destination ? [options, destination] : options };
}
