/**
 * Applies the per-key request limits after authentication. A refused request stops here, before any
 * route runs, so it is never parsed, planned or charged: a 429 costs no privacy budget. A limiter
 * that cannot answer (its store down or too slow) refuses with 503: requests are never let through
 * unlimited.
 */
import type { MiddlewareHandler } from 'hono';
import { isDatabaseUnavailable } from '../../db/database-errors.ts';
import type { AppEnv } from '../context.ts';
import { Problem } from '../problem.ts';
import type { Admission, Limiter } from '../request-limiter.ts';

export function rateLimit(limiter: Limiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let admission: Admission;
    try {
      admission = await limiter.admit(c.var.principal.id);
    } catch (error) {
      // The limits kept in PostgreSQL: the database is what is down, and the app says so.
      if (isDatabaseUnavailable(error)) throw error;
      throw new Problem(
        'limiter_unavailable',
        'The shared request limiter could not be reached in time; retry shortly.',
        { headers: { 'retry-after': '1' }, cause: error },
      );
    }
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
