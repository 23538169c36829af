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

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error responses every authenticated route can give. */
export const AUTH_PROBLEMS = {
  401: problem('Missing or unknown API key'),
  403: problem('The key’s role may not use this route'),
} as const;

export const BEARER = [{ bearer: [] }];
