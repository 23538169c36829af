/**
 * `GET /v1/catalog`: what the caller's role may query — tables, columns, types, bounds, public
 * domains, contribution bounds — and the limits a request must respect. Policy only, never data.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Policy, Role } from '../../policy/schema.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { AUTH_PROBLEMS, BEARER } from '../openapi-schemas.ts';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const CatalogColumnSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    bounds: z.tuple([Scalar, Scalar]).nullable(),
    granularity: z.number().nullable(),
    public_values: z.array(Scalar).nullable(),
    public_range: z.tuple([z.number(), z.number()]).nullable(),
    public_domain: z
      .union([z.string(), z.object({ from: z.string(), to: z.string() })])
      .nullable()
      .openapi({ description: 'A public table column (table.column), or a range of days { from, to }' }),
    max_distinct_per_unit: z.number().nullable(),
  })
  .openapi('CatalogColumn');

const CatalogTableSchema = z
  .object({
    name: z.string(),
    public: z.boolean(),
    privacy_unit: z.boolean().openapi({ description: 'This table holds one row per person' }),
    unit_path: z.array(z.string()).nullable(),
    contributions: z.object({ max_rows_per_unit: z.number(), max_groups_per_unit: z.number() }).nullable(),
    population: z.number().nullable(),
    columns: z.array(CatalogColumnSchema),
  })
  .openapi('CatalogTable');

const CatalogSchema = z
  .object({
    role: z.string(),
    policy_version: z.string(),
    accounting: z.enum(['basic', 'zcdp', 'rdp']),
    default_mechanism: z.enum(['laplace', 'gaussian']),
    reuse_answers: z.boolean(),
    communities: z.array(z.string()),
    limits: z.record(z.string(), z.number()),
    tables: z.array(CatalogTableSchema),
  })
  .openapi('Catalog');

const route = createRoute({
  method: 'get',
  path: '/v1/catalog',
  operationId: 'getCatalog',
  summary: 'The tables, columns, bounds and limits your role may query (no data)',
  tags: ['queries'],
  security: BEARER,
  responses: {
    200: { description: 'The catalog', content: { 'application/json': { schema: CatalogSchema } } },
    401: AUTH_PROBLEMS[401],
  },
});

export function catalogRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>().openapi(route, (c) => {
    const { version, policy } = deps.policies.current;
    return c.json({ ...catalogFor(policy, c.var.principal.role), policy_version: version }, 200);
  });
}

/** The part of a policy one role may see: its granted tables, without hidden columns. */
export function catalogFor(policy: Policy, role: Role) {
  const granted = policy.access[role]?.tables ?? [];
  return {
    role,
    accounting: policy.accounting,
    default_mechanism: policy.default_mechanism,
    reuse_answers: policy.reuse_answers,
    communities: Object.keys(policy.budgets).sort(),
    limits: { ...policy.limits },
    tables: granted
      .filter((name) => policy.tables[name])
      .map((name) => {
        const table = policy.tables[name]!;
        return {
          name,
          public: table.public,
          privacy_unit: policy.privacy_unit.table === name,
          unit_path: table.unit_path ?? null,
          contributions: table.contributions ?? null,
          population: table.population ?? null,
          columns: Object.entries(table.columns)
            .filter(([, column]) => !column.hidden)
            .map(([columnName, column]) => ({
              name: columnName,
              type: column.type,
              bounds: column.bounds ?? null,
              granularity: column.granularity ?? null,
              public_values: column.public_values ?? null,
              public_range: column.public_range ?? null,
              public_domain: column.public_domain ?? null,
              max_distinct_per_unit: column.max_distinct_per_unit ?? null,
            })),
        };
      }),
  };
}
