/**
 * Applies the per-key request limits after authentication. A refused request stops here, before any
 * route runs, so it is never parsed, planned or charged: a 429 costs no privacy budget.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';
import { Problem } from '../problem.ts';
import type { RequestLimiter } from '../request-limiter.ts';

export function rateLimit(limiter: RequestLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const admission = limiter.admit(c.var.principal.id);
    if (!admission.admitted) {
      const why =
        admission.reason === 'rate'
          ? 'This API key has used its request allowance for now.'
          : 'This API key already has as many requests in progress as it may.';
      throw new Problem('rate_limited', `${why} Retry after ${admission.retryAfterSeconds} s.`, {
        headers: { 'retry-after': String(admission.retryAfterSeconds) },
        extensions: { limit: admission.reason, retry_after_seconds: admission.retryAfterSeconds },
      });
    }
    try {
      await next();
    } finally {
      admission.release();
    }
  };
}
