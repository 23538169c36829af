/**
 * What every request body must be before a handler sees it: JSON (415 otherwise), and at most
 * MAX_BODY_BYTES (413, decided from Content-Length or by counting a streamed body, never by reading
 * more than the limit). Requests without a body pass; a route that needs one says so itself.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Problem } from '../problem.ts';

/** Far above the largest legitimate body (a policy set or a 100 000-character query). */
export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

export function bodyChecks(maxBytes = MAX_BODY_BYTES): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new Problem('payload_too_large', `The request body is larger than ${maxBytes} bytes.`);
    },
  });
  return async (c, next) => {
    const request = c.req.raw;
    if (request.body === null || request.headers.get('content-length') === '0') return next();
    if (!JSON_TYPE.test(request.headers.get('content-type') ?? '')) {
      throw new Problem(
        'unsupported_media_type',
        'Send the request body as JSON with `content-type: application/json`.',
      );
    }
    return limit(c, next);
  };
}
