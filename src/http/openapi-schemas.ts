/** Schemas shared by several routes' OpenAPI descriptions. */
import { z } from '@hono/zod-openapi';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: 'unauthorized' }),
    detail: z.string(),
    request_id: z.string().optional(),
  })
  .openapi('Problem');

export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** Every `/v1` route: when per-key rate limits are on, a key over its limit gets 429. */
export const RATE_LIMITED = {
  429: problem('Too many requests from this key; retry after the time given'),
} as const;

/** A route's path, query or body failed validation (code `invalid_request`, with `issues`). */
export const INVALID_REQUEST = {
  400: problem('The request is not valid: each issue names its field'),
} as const;

/** The error responses every authenticated route can give. */
export const AUTH_PROBLEMS = {
  401: problem('Missing or unknown API key'),
  403: problem('The key’s role may not use this route'),
  ...RATE_LIMITED,
} as const;

export const BEARER = [{ bearer: [] }];

/** What a community has left: floats, and beside them the ledger's exact decimals where they exist. */
export const RemainingSchema = z
  .object({
    epsilon: z.number(),
    delta: z.number(),
    exact: z
      .object({
        epsilon: z.string().nullable(),
        delta: z.string().nullable(),
        rho: z.string().nullable().optional(),
      })
      .optional()
      .openapi({
        description:
          'Exact decimal strings, where what is left is a difference of ledger decimals: ε under basic, ρ under zcdp, δ under basic and zcdp. A zcdp or rdp community’s ε left is a conversion, so null.',
      }),
  })
  .openapi('Remaining');
