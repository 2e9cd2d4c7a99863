import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TimelineConfig } from '@timeline/config';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type DestinationStream } from 'pino';
import { build as prettyStream } from 'pino-pretty';

/** Headers whose values never reach a log line. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];

/** `scheme://user:password@host` → `scheme://user:***@host`: a connection string in a message keeps no password. */
export function maskUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, '$1:***@');
}

/** Requests too frequent to log at info (health probes, scrapes): they are logged at debug. */
function isProbe(url: string | undefined): boolean {
  return /^\/(health|metrics)(\/|\?|$)/.test(url ?? '');
}

interface LogLine {
  app?: string;
  context?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

/** One line a person reads: `[api Context] message`, and a finished request as `GET /path 200 12ms`. */
function readableMessage(line: Record<string, unknown>, messageKey: string): string {
  const { app, context, req, res, responseTime } = line as LogLine;
  const source = `[${[app, context].filter(Boolean).join(' ')}]`;
  if (req && res) return `${source} ${req.method} ${req.url} ${res.statusCode} ${responseTime}ms`;
  return `${source} ${String(line[messageKey])}`;
}

/**
 * Lines for a person at a terminal: time, level and message in colour, other fields below, and a request as
 * one line. Written synchronously, as pino writes JSON to stdout, so nothing is lost at exit.
 */
export function readableLogStream(destination: NodeJS.WritableStream = process.stdout): DestinationStream {
  return prettyStream({
    destination,
    sync: true,
    colorize: (destination as NodeJS.WriteStream).isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app,context,req,res,responseTime',
    messageFormat: readableMessage,
  });
}

/** A terminal gets readable lines; anything else (a pipe, a file, a log shipper) JSON lines. */
function defaultDestination(): DestinationStream | undefined {
  return process.stdout.isTTY ? readableLogStream() : undefined;
}

/**
 * nestjs-pino settings: one JSON object per line, ISO time, level names, and
 * every line logged while a request is handled carries `requestId`, Fastify's
 * request id, the one problem details echo. No bodies are logged; secret
 * headers are redacted and URL passwords masked. Without a destination, lines go
 * to stdout: readable when it is a terminal, JSON otherwise.
 */
export function loggingParams(config: TimelineConfig, app: string, destination = defaultDestination()): Params {
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
    // A failing readiness probe is an answer, not a fault: the projector's /health/ready names what fails.
    customLogLevel: (req: IncomingMessage, res: ServerResponse, error?: Error) => {
      if (error) return 'error';
      if (isProbe(req.url)) return 'debug';
      // A 503 is a refusal the service chose (overloaded, a dependency down), with Retry-After: no stack wanted,
      // and under load shedding there are many of them.
      if (res.statusCode === 503) return 'warn';
      return res.statusCode >= 500 ? 'error' : 'info';
    },
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
