import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { listCommunityBudgets } from '../../ledger/ledger-view.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { AUTH_PROBLEMS, BEARER, RATE_LIMITED, RemainingSchema } from '../openapi-schemas.ts';

const Amount = z.object({ epsilon: z.number(), delta: z.number() });

const PrincipalSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['analyst', 'contributor', 'council']),
    community_id: z.string().nullable(),
    /**
     * The communities whose budgets this key's requests can spend (analysts and the council: every
     * community, since a query or a training job may read anyone's rows) or, for a contributor, the
     * community whose ledger it reads; with each one's budget and what is left.
     */
    communities: z.array(
      z.object({ id: z.string(), accounting: z.string(), budget: Amount, remaining: RemainingSchema }),
    ),
    policy_version: z.string(),
  })
  .openapi('Principal');

const route = createRoute({
  method: 'get',
  path: '/v1/me',
  operationId: 'getMe',
  summary: 'Who this API key belongs to, its role, and the budgets it can reach with what they have left',
  tags: ['principals'],
  security: BEARER,
  responses: {
    ...RATE_LIMITED,
    200: { description: 'The key’s principal', content: { 'application/json': { schema: PrincipalSchema } } },
    401: AUTH_PROBLEMS[401],
  },
});

export function meRoutes(deps: Pick<AppDependencies, 'db' | 'policies'>) {
  return new OpenAPIHono<AppEnv>().openapi(route, async (c) => {
    const { id, name, role, communityId } = c.var.principal;
    const budgets = await listCommunityBudgets(deps.db);
    const inReach = role === 'contributor' ? budgets.filter((b) => b.id === communityId) : budgets;
    return c.json(
      {
        id,
        name,
        role,
        community_id: communityId,
        communities: inReach.map((b) => ({
          id: b.id,
          accounting: b.accounting,
          budget: { epsilon: Number(b.budget.epsilon), delta: Number(b.budget.delta) },
          remaining: b.remaining,
        })),
        policy_version: deps.policies.current.version,
      },
      200,
    );
  });
}
