/**
 * One structured log line per request, tagged with its request id. It names the principal by id,
 * never the key, and the path without its query string.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Logger } from '../context.ts';

export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const requestLogger = logger.child({ request_id: c.var.requestId });
    c.set('logger', requestLogger);
    await next();
    requestLogger.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        principal_id: c.get('principal')?.id,
      },
      'request',
    );
  };
}
