/**
 * The contributors' view: every community's budget and spend (any signed-in role), and each
 * community's ledger of charges (a contributor of that community, or the council), as JSON or CSV.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { chargesToCsv, listCharges, listCommunityBudgets } from '../../ledger/ledger-view.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import {
  AUTH_PROBLEMS,
  BEARER,
  INVALID_REQUEST,
  ProblemSchema,
  RATE_LIMITED,
  RemainingSchema,
} from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

const Amount = z.string().openapi({ description: 'Exact decimal, as the ledger holds it', example: '0.1' });

const CommunitySchema = z
  .object({
    id: z.string(),
    accounting: z.enum(['basic', 'zcdp', 'rdp']),
    budget: z.object({ epsilon: Amount, delta: Amount }),
    spent: z.object({
      epsilon: z.number().openapi({
        description:
          'ε spent under the community’s accounting (zcdp: CKS20 conversion of ρ; rdp: the composed Rényi curve at the filter order)',
      }),
      delta: Amount,
      rho: Amount.optional(),
      approx_epsilon: Amount.optional(),
    }),
    remaining: RemainingSchema,
    rdp: z
      .object({
        order: z.number().openapi({ description: 'The Rényi filter’s order α, fixed with the budget' }),
        conversion_delta: z.number().openapi({ description: 'δ_conv: the δ at which the curve converts' }),
        budget: z.number().openapi({ description: 'B(α): the largest composed RDP at α the filter admits' }),
        spent: z.number().openapi({ description: 'Σ τ(α) of every charge at the filter’s order' }),
        gaussian_rho_left: z.number().openapi({
          description: 'The largest ρ of one Gaussian release that still fits, (B(α) − Σ τ(α))/α',
        }),
        delta_parts: z.object({ spent: z.number(), total: z.number() }).openapi({
          description: 'The δ of approximately-DP parts (partition selection), within their share',
        }),
        curve: z.array(z.object({ order: z.number(), rdp: z.number(), epsilon: z.number() })).openapi({
          description:
            'The composed Rényi curve at every ledger order, with the ε each order alone would give at δ_conv; only the filter’s order is valid under adaptive charges',
        }),
      })
      .optional()
      .openapi({ description: 'rdp accounting only: the fixed-order Rényi filter (Feldman & Zrnic 2021)' }),
    exact: z
      .object({
        spent: z.object({ epsilon: Amount, delta: Amount, rho: Amount.optional() }),
        remaining: z.object({ epsilon: Amount.nullable(), delta: Amount, rho: Amount.nullable().optional() }),
      })
      .openapi({
        description:
          'The ledger’s exact decimals beside the floats. Under zcdp the ε left is a conversion of ρ, so `remaining.epsilon` is null and `remaining.rho` is exact.',
      }),
    policy_version: z.string(),
    updated_at: z.string(),
  })
  .openapi('Community');

const ChargeSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    kind: z.enum(['query', 'training', 'evaluation']),
    subject_id: z.string(),
    description: z.string(),
    principal: z.object({ id: z.string(), name: z.string().nullable(), role: z.string().nullable() }),
    epsilon: Amount,
    delta: Amount,
    rho: Amount.nullable(),
    mechanism: z.string(),
    policy_version: z.string(),
    request_id: z.string(),
    own: z.object({ epsilon: z.number(), delta: z.number() }).nullable().openapi({
      description:
        'rdp accounting only: the charge’s own (ε, δ), its Rényi curve converted at the community’s δ_conv (plus its δ part); `epsilon` above is what it added to the composed spend',
    }),
  })
  .openapi('Charge');

const listRoute = createRoute({
  method: 'get',
  path: '/v1/communities',
  operationId: 'listCommunities',
  summary: 'Every community with its budget, spend and what is left',
  tags: ['ledger'],
  security: BEARER,
  responses: {
    ...RATE_LIMITED,
    200: {
      description: 'Communities',
      content: { 'application/json': { schema: z.object({ communities: z.array(CommunitySchema) }) } },
    },
    401: AUTH_PROBLEMS[401],
  },
});

const ledgerRoute = createRoute({
  method: 'get',
  path: '/v1/communities/{id}/ledger',
  operationId: 'getCommunityLedger',
  summary: 'Every charge made to a community: when, by whom, for what, at what cost',
  tags: ['ledger'],
  security: BEARER,
  request: {
    params: z.object({ id: z.string() }),
    query: z.object({
      from: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: 'Charges at or after this time' }),
      to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Charges before this time' }),
      analyst: z.string().max(200).optional().openapi({ description: 'A principal id or key name' }),
      kind: z.enum(['query', 'training', 'evaluation']).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      cursor: z.string().max(200).optional(),
      format: z.enum(['json', 'csv']).default('json'),
    }),
  },
  responses: {
    ...INVALID_REQUEST,
    200: {
      description: 'A page of charges, newest first',
      content: {
        'application/json': {
          schema: z.object({
            community: CommunitySchema,
            charges: z.array(ChargeSchema),
            next_cursor: z.string().nullable(),
          }),
        },
        'text/csv': { schema: z.string() },
      },
    },
    ...AUTH_PROBLEMS,
    404: {
      description: 'No such community',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
  },
});

export function communityRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>()
    .openapi(listRoute, async (c) =>
      c.json({ communities: await listCommunityBudgets(deps.readDb ?? deps.db) }, 200),
    )
    .openapi(ledgerRoute, async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.var.principal;
      const mayRead =
        principal.role === 'council' || (principal.role === 'contributor' && principal.communityId === id);
      if (!mayRead) {
        throw new Problem(
          'forbidden',
          'A community’s ledger is open to its contributors and to the council.',
        );
      }
      const community = (await listCommunityBudgets(deps.readDb ?? deps.db)).find((entry) => entry.id === id);
      if (!community) throw new Problem('not_found', `There is no community "${id}".`);
      const query = c.req.valid('query');
      let page: Awaited<ReturnType<typeof listCharges>>;
      try {
        page = await listCharges(deps.readDb ?? deps.db, {
          communityId: id,
          from: query.from ? new Date(query.from) : undefined,
          to: query.to ? new Date(query.to) : undefined,
          analyst: query.analyst,
          kind: query.kind,
          limit: query.limit,
          cursor: query.cursor,
        });
      } catch (error) {
        if (error instanceof RangeError) throw new Problem('invalid_request', error.message);
        throw error;
      }
      if (query.format === 'csv') {
        c.header('content-disposition', `attachment; filename="${id}-ledger.csv"`);
        if (page.next_cursor) c.header('x-next-cursor', page.next_cursor);
        return c.body(chargesToCsv(page.charges), 200, { 'content-type': 'text/csv; charset=utf-8' });
      }
      return c.json({ community, ...page }, 200);
    });
}
