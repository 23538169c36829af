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
    onError: () => tooLarge(maxBytes),
  });
  return async (c, next) => {
    // Decided from the headers alone where they suffice: touching the body stream here would make
    // the Node adapter build a full web Request for every request instead of reading the body
    // directly when the handler asks for it.
    const contentLength = c.req.header('content-length');
    const streamed = c.req.header('transfer-encoding') !== undefined;
    if (!streamed && (contentLength === undefined || contentLength === '0')) return next();
    if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      throw new Problem(
        'unsupported_media_type',
        'Send the request body as JSON with `content-type: application/json`.',
      );
    }
    // With a Content-Length (and no chunked encoding) the HTTP parser delivers exactly that many
    // bytes, so the header decides; a streamed body is counted as it is read.
    if (!streamed) return Number(contentLength) > maxBytes ? tooLarge(maxBytes) : next();
    return limit(c, next);
  };
}

function tooLarge(maxBytes: number): never {
  throw new Problem('payload_too_large', `The request body is larger than ${maxBytes} bytes.`);
}
