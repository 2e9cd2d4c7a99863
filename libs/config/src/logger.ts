import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { TimelineConfig } from './timeline-config';

const NEST_LEVELS: Record<TimelineConfig['logLevel'], LogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  silent: [],
};

/** One JSON object per line, so log shippers need no parsing rules. */
export function jsonLogger(config: TimelineConfig, app: string): ConsoleLogger {
  return new ConsoleLogger(app, { json: true, logLevels: NEST_LEVELS[config.logLevel], colors: false });
}
