import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths never logged: credentials and job inputs. Logs carry ids (request, job, tenant), never payloads.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'input',
  '*.input',
  'body.input',
  'req.body',
  'image',
  '*.image',
  'token',
  '*.token',
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
];

/** JSON logs to stdout, one line per event, with the service name on every line. */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  return pino({
    level: process.env['LOG_LEVEL'] ?? 'info',
    base: { service, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  });
}
