// The process logger: pino, JSON lines on stdout. Paths that could carry credentials are redacted as a
// second line of defence; the first is never logging whole objects or headers (see audit.ts).
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(v: string): v is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(v);
}

const REDACT = [
  '*.token',
  '*.password',
  '*.privateKey',
  '*.key',
  '*.authorization',
  '*.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(opts: {
  level: LogLevel;
  name?: string;
  destination?: DestinationStream;
}): Logger {
  const options = {
    level: opts.level,
    name: opts.name ?? 'modelgate',
    base: { component: opts.name ?? 'modelgate' },
    redact: REDACT,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

export type { Logger };
