/**
 * Errors as RFC 9457 problem details with a stable machine `code`. Errors are raised where the fact
 * is known and rendered once, here. A problem's text is written by dpgate, never copied from data,
 * so no private value can reach a client through an error.
 */
export const PROBLEM_CODES = {
  unauthorized: { status: 401, title: 'Missing or unknown API key' },
  forbidden: { status: 403, title: 'This role may not do that' },
  not_found: { status: 404, title: 'Not found' },
  invalid_request: { status: 400, title: 'The request is not valid' },
  invalid_policy: { status: 422, title: 'The policy set is not valid' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  rate_limited: { status: 429, title: 'Too many requests' },
  database_unavailable: { status: 503, title: 'The database is unreachable' },
  internal_error: { status: 500, title: 'Internal error' },
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export class Problem extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    code: ProblemCode,
    detail: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'Problem';
    this.code = code;
    this.status = PROBLEM_CODES[code].status;
    this.title = PROBLEM_CODES[code].title;
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
