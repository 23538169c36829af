/**
 * A community's charges in depth: one charge with what it paid for, and the spend after each
 * charge over time. Open to the community's contributors and to the council.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { chargeDetail } from '../../ledger/charge-detail.ts';
import { spendHistory } from '../../ledger/spend-history.ts';
import type { Principal } from '../../principals/principal.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { AUTH_PROBLEMS, BEARER, INVALID_REQUEST, problem } from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

const ChargeDetailSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    kind: z.enum(['query', 'training', 'evaluation']),
    description: z.string(),
    principal: z.object({ id: z.string(), name: z.string().nullable(), role: z.string().nullable() }),
    epsilon: z.string(),
    delta: z.string(),
    rho: z.string().nullable(),
    mechanism: z.string(),
    accounting: z.enum(['basic', 'zcdp', 'rdp']),
    policy_version: z.string(),
    request_id: z.string(),
    communities: z.array(z.string()).openapi({ description: 'Every community the same request charged' }),
    answer: z
      .object({
        status: z.string(),
        released_at: z.string().nullable(),
        columns: z.array(z.unknown()),
        rows: z.array(z.unknown()),
        accuracy: z.array(z.unknown()),
        cost: z.unknown(),
        scope: z.unknown(),
      })
      .nullable()
      .openapi({ description: 'For a query: the noisy answer as released (empty if none was)' }),
    job: z
      .object({
        status: z.string(),
        cost: z.unknown(),
        request: z.unknown(),
        finished_at: z.string().nullable(),
        model_card: z.unknown(),
      })
      .nullable()
      .openapi({ description: 'For training: the job, its planned cost and its model card' }),
  })
  .openapi('ChargeDetail');

const route = createRoute({
  method: 'get',
  path: '/v1/communities/{id}/charges/{charge_id}',
  operationId: 'getCharge',
  summary: 'One charge to a community: what was released and the figures its cost came from',
  tags: ['ledger'],
  security: BEARER,
  request: { params: z.object({ id: z.string().max(63), charge_id: z.uuid() }) },
  responses: {
    200: { description: 'The charge', content: { 'application/json': { schema: ChargeDetailSchema } } },
    ...INVALID_REQUEST,
    ...AUTH_PROBLEMS,
    404: problem('No such charge to this community'),
  },
});

const SpendSchema = z
  .object({
    accounting: z.enum(['basic', 'zcdp', 'rdp']),
    budget: z.object({ epsilon: z.number(), delta: z.number() }),
    points: z.array(
      z.object({
        at: z.string(),
        epsilon: z
          .number()
          .openapi({ description: 'ε spent after this charge, under the community’s accounting' }),
        delta: z.number(),
        rho: z.number().optional(),
        xi: z.number().optional(),
      }),
    ),
  })
  .openapi('SpendHistory');

const spendRoute = createRoute({
  method: 'get',
  path: '/v1/communities/{id}/spend',
  operationId: 'getCommunitySpend',
  summary: 'A community’s cumulative spend after each charge, oldest first (at most the newest 5000)',
  tags: ['ledger'],
  security: BEARER,
  request: { params: z.object({ id: z.string().max(63) }) },
  responses: {
    200: { description: 'The spend over time', content: { 'application/json': { schema: SpendSchema } } },
    ...INVALID_REQUEST,
    ...AUTH_PROBLEMS,
    404: problem('No such community'),
  },
});

export function chargeRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>()
    .openapi(route, async (c) => {
      const { id, charge_id } = c.req.valid('param');
      mayReadCommunity(c.var.principal, id);
      const detail = await chargeDetail(deps.db, id, charge_id);
      if (!detail) throw new Problem('not_found', 'There is no such charge to this community.');
      return c.json(detail as z.infer<typeof ChargeDetailSchema>, 200);
    })
    .openapi(spendRoute, async (c) => {
      const { id } = c.req.valid('param');
      mayReadCommunity(c.var.principal, id);
      const history = await spendHistory(deps.db, id);
      if (!history) throw new Problem('not_found', `There is no community "${id}".`);
      return c.json(history, 200);
    });
}

function mayReadCommunity(principal: Principal, id: string): void {
  if (!(principal.role === 'council' || (principal.role === 'contributor' && principal.communityId === id))) {
    throw new Problem('forbidden', 'A community’s charges are open to its contributors and to the council.');
  }
}
