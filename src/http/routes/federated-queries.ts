/**
 * `POST /v1/federated-queries`: COUNT, SUM and AVG over the tables that live on community nodes
 * (docs/federation.md). Present only when the gateway was given its federation signing key and a
 * transport to the nodes; otherwise the route answers 404 like any unknown path.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { FederatedQueryRefusal } from '../../federation/federated-query.ts';
import { answerFederatedQuery, FederatedQueryAborted } from '../../federation/federated-sql-gateway.ts';
import type { AggregationOptions } from '../../federation/secagg-gateway.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { AUTH_PROBLEMS, BEARER, ProblemSchema } from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

/** What the gateway needs to reach its nodes. */
export interface FederationDependencies {
  readonly aggregation: AggregationOptions;
}

const RequestSchema = z
  .object({
    sql: z.string().min(1).max(100_000).openapi({ example: 'SELECT sex, COUNT(*) FROM people GROUP BY sex' }),
    epsilon: z.number().positive().optional(),
    delta: z.number().min(0).lt(1).optional(),
  })
  .strict()
  .openapi('FederatedQueryRequest');

const AnswerSchema = z
  .object({
    id: z.string(),
    columns: z.array(z.string()),
    rows: z.array(z.array(z.unknown())),
    accuracy: z.array(z.array(z.unknown().nullable())),
    contributors: z.array(z.string()),
  })
  .passthrough()
  .openapi('FederatedAnswer');

const route = createRoute({
  method: 'post',
  path: '/v1/federated-queries',
  operationId: 'runFederatedQuery',
  summary:
    'Ask an aggregate query over node tables; the gateway sees only the noised, securely aggregated sum',
  tags: ['federation'],
  security: BEARER,
  middleware: [requireRole('analyst', 'council')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: RequestSchema } } } },
  responses: {
    200: { description: 'The released answer', content: { 'application/json': { schema: AnswerSchema } } },
    ...AUTH_PROBLEMS,
    409: {
      description: 'budget_exhausted',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
    422: {
      description: 'The query was refused (code says why)',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
  },
});

export function federatedQueryRoutes(deps: AppDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  const federation = deps.federation;
  if (!federation) return app;
  return app.openapi(route, async (c) => {
    const policy = deps.policies.current;
    if (!policy.policy.federation) throw new Problem('not_found', 'This commons has no federation.');
    try {
      const answer = await answerFederatedQuery(
        {
          db: deps.db,
          policy,
          principal: c.var.principal,
          requestId: c.var.requestId,
          aggregation: federation.aggregation,
        },
        c.req.valid('json'),
      );
      const body = { ...answer, policy_version: policy.version } as unknown as z.infer<typeof AnswerSchema>;
      return c.json(body, 200);
    } catch (error) {
      if (error instanceof FederatedQueryRefusal) {
        throw new Problem('invalid_request', `${error.code}: ${error.message}`);
      }
      if (error instanceof FederatedQueryAborted) {
        throw new Problem('execution_failed', error.message, {
          extensions: { id: error.answerId, dropouts: error.dropouts },
        });
      }
      throw error;
    }
  });
}
