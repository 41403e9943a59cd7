// The process logger: pino, JSON lines on stdout (synchronous writes, pino's default). Secrets stay out
// of the logs by construction: records are built field by field, never from whole objects or headers
// (see audit.ts). pino's wildcard `redact` was measured at 4x the cost of an audit line, on every request.
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

export function createLogger(opts: {
  level: LogLevel;
  name?: string;
  destination?: DestinationStream;
}): Logger {
  const options = {
    level: opts.level,
    base: { component: opts.name ?? 'modelgate' },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

export type { Logger };
