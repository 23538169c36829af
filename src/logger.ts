/** Structured JSON logs (pino) for the Node runtime. */
import pino from 'pino';
import type { Logger } from './http/context.ts';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'dpgate' }, timestamp: pino.stdTimeFunctions.isoTime });
}
