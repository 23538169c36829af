/**
 * The caller's own history: queries asked (`GET /v1/queries`) and training jobs started
 * (`GET /v1/training-jobs`), newest first, keyset-paginated so pages stay stable as work arrives.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { listOwnQueries } from '../../ledger/history.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { AUTH_PROBLEMS, BEARER, problem } from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'The `next_cursor` of the previous page' }),
});

const HistoryQuerySchema = z
  .object({
    id: z.string(),
    status: z.enum(['pending', 'released', 'failed']),
    sql: z.string().nullable(),
    created_at: z.string(),
    released_at: z.string().nullable(),
    epsilon: z.string().nullable().openapi({ description: 'ε charged (the largest over the communities)' }),
    delta: z.string().nullable(),
    mechanism: z.string().nullable(),
    communities: z.array(z.string()),
    policy_version: z.string(),
  })
  .openapi('QueryHistoryEntry');

const queriesRoute = createRoute({
  method: 'get',
  path: '/v1/queries',
  operationId: 'listQueries',
  summary: 'Your own queries, newest first',
  tags: ['queries'],
  security: BEARER,
  request: { query: PageQuery },
  responses: {
    200: {
      description: 'A page of your queries',
      content: {
        'application/json': {
          schema: z.object({ queries: z.array(HistoryQuerySchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    400: problem('A parameter is not valid (a cursor this API did not return)'),
    401: AUTH_PROBLEMS[401],
  },
});

export function historyRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>().openapi(queriesRoute, async (c) => {
    const page = await badCursor(() => listOwnQueries(deps.db, c.var.principal.id, c.req.valid('query')));
    return c.json({ queries: page.items, next_cursor: page.next_cursor }, 200);
  });
}

async function badCursor<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RangeError) throw new Problem('invalid_request', error.message);
    throw error;
  }
}
