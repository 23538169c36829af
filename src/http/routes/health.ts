import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import { formatIssue } from '../../policy/issues.ts';
import type { AppDependencies, AppEnv } from '../context.ts';

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    database: z.enum(['ok', 'unreachable']),
    database_kind: z.enum(['postgres', 'pglite']),
    policy_version: z.string(),
    policy_refused: z
      .object({ at: z.string(), issues: z.array(z.string()) })
      .nullable()
      .openapi({
        description: 'The last policy set that was refused, while the previous one keeps serving.',
      }),
  })
  .openapi('Health');

const route = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  summary: 'Liveness and database reachability',
  tags: ['operations'],
  responses: {
    200: {
      description: 'dpgate and its database are up',
      content: { 'application/json': { schema: HealthSchema } },
    },
    503: {
      description: 'The database is unreachable',
      content: { 'application/json': { schema: HealthSchema } },
    },
  },
});

/** /health answers within about this long whatever the database does. */
const DATABASE_CHECK_TIMEOUT_MS = 1_000;

/** True when the database answered a trivial query in time, on the pool reserved for reads. */
async function databaseAnswers(deps: AppDependencies): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), DATABASE_CHECK_TIMEOUT_MS);
  });
  const check = sql`select 1`
    .execute(deps.readDb ?? deps.db)
    .then(() => true)
    .catch(() => false);
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

export function healthRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>().openapi(route, async (c) => {
    const databaseOk = await databaseAnswers(deps);
    const refusal = deps.policies.lastRefusal;
    const body = {
      status: databaseOk ? ('ok' as const) : ('degraded' as const),
      database: databaseOk ? ('ok' as const) : ('unreachable' as const),
      database_kind: deps.databaseKind,
      policy_version: deps.policies.current.version,
      policy_refused: refusal
        ? { at: refusal.at.toISOString(), issues: refusal.issues.map(formatIssue) }
        : null,
    };
    return databaseOk ? c.json(body, 200) : c.json(body, 503);
  });
}
