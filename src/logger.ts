/**
 * Structured JSON logs (pino) for the Node runtime. Written asynchronously: lines logged while a
 * write is under way go out together in the next one, instead of one blocking write per request
 * line; pino flushes what is left when the process exits.
 */
import pino from 'pino';
import type { Logger } from './http/context.ts';

export function createLogger(level: string): Logger {
  return pino(
    { level, base: { service: 'dpgate' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: process.stdout.fd, sync: false }),
  );
}
