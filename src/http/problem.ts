/**
 * Errors as RFC 9457 problem details with a stable machine `code`. Errors are raised where the fact
 * is known and rendered once, here. A problem's text is written by dpgate, never copied from data,
 * so no private value can reach a client through an error.
 */
import type { SqlRefusalCode } from '../sql/refusal.ts';

export const PROBLEM_CODES = {
  unauthorized: { status: 401, title: 'Missing or unknown API key' },
  forbidden: { status: 403, title: 'This role may not do that' },
  not_found: { status: 404, title: 'Not found' },
  invalid_request: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON' },
  unsupported_media_type: { status: 415, title: 'The request body must be application/json' },
  invalid_policy: { status: 422, title: 'The policy set is not valid' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  rate_limited: { status: 429, title: 'Too many requests' },
  limiter_unavailable: { status: 503, title: 'The shared request limiter is unreachable; retry shortly' },
  database_unavailable: { status: 503, title: 'The database is unreachable or busy; retry shortly' },
  policy_superseded: { status: 503, title: 'The policy changed while this request was planned; retry' },
  budget_exhausted: { status: 409, title: 'The privacy budget cannot pay for this request' },
  idempotency_conflict: { status: 422, title: 'This idempotency key was used for a different request' },
  answer_pending: { status: 409, title: 'This request is still being answered' },
  answer_failed: { status: 409, title: 'This request was charged and failed; its answer was never released' },
  execution_failed: { status: 500, title: 'The query could not be run; its charge stands' },
  invalid_training: { status: 422, title: 'The training request cannot be run privately' },
  already_revoked: { status: 409, title: 'This API key is already revoked' },
  training_unavailable: { status: 501, title: 'This gateway does not run training jobs' },
  internal_error: { status: 500, title: 'Internal error' },
} as const;

/** Refusals of analyst SQL (src/sql/refusal.ts): 403 for a table the role may not read, else 422. */
const SQL_REFUSAL = { title: 'The query was refused' } as const;

export type ProblemCode = keyof typeof PROBLEM_CODES | SqlRefusalCode;

function describe(code: ProblemCode): { status: number; title: string } {
  if (code in PROBLEM_CODES) return PROBLEM_CODES[code as keyof typeof PROBLEM_CODES];
  return { status: code === 'not_allowed' ? 403 : 422, ...SQL_REFUSAL };
}

export class Problem extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    code: ProblemCode,
    detail: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'Problem';
    this.code = code;
    const { status, title } = describe(code);
    this.status = status;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

export function problemResponse(problem: Problem, requestId: string | undefined): Response {
  const body = {
    type: `https://dpgate.dev/problems/${problem.code}`,
    title: problem.title,
    status: problem.status,
    code: problem.code,
    detail: problem.message,
    ...(requestId ? { request_id: requestId } : {}),
    ...problem.extensions,
  };
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: {
      'content-type': 'application/problem+json',
      ...(requestId ? { 'x-request-id': requestId } : {}),
      ...problem.headers,
    },
  });
}
