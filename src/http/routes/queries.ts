/**
 * `POST /v1/queries` (analysts and councils ask; see DESIGN.md §4) and `GET /v1/queries/:id` (the
 * analyst who asked, or the council). The flow itself is in src/queries/answer-query.ts.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { RandomSource } from '../../dp/random.ts';
import { findAnswer } from '../../ledger/answers.ts';
import { PolicySupersededError } from '../../ledger/charge.ts';
import { appliedPolicy } from '../../ledger/policy-versions.ts';
import { answerQuery, type QueryBody } from '../../queries/answer-query.ts';
import type { FaultInjector } from '../../queries/fault-points.ts';
import { RepeatCache } from '../../queries/repeat-cache.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  AUTH_PROBLEMS,
  BEARER,
  INVALID_REQUEST,
  ProblemSchema,
  problem,
  RemainingSchema,
} from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

const QueryRequestSchema = z
  .object({
    sql: z
      .string()
      .min(1)
      .max(100_000)
      .openapi({ example: 'SELECT educ, COUNT(*) FROM people GROUP BY educ' }),
    epsilon: z
      .number()
      .positive()
      .optional()
      .openapi({ description: 'Privacy cost; defaults to the policy’s default_epsilon' }),
    delta: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .openapi({ description: 'δ for Gaussian noise or partition selection' }),
    mechanism: z.enum(['laplace', 'gaussian']).optional(),
    dry_run: z
      .boolean()
      .optional()
      .openapi({ description: 'Return cost, scope and accuracy without touching data or budget' }),
    idempotency_key: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: 'A retry with the same key returns the same answer, charged once' }),
    post_process: z
      .array(z.enum(['non_negative', 'total']))
      .max(2)
      .optional()
      .openapi({
        description:
          'Free post-processing of the noisy answer: non_negative clamps counts at 0 (with total: projects them so they keep their noisy sum); total appends a row summing the groups of a public-domain GROUP BY. Applied steps are listed in post_processing.',
      }),
  })
  .strict()
  .openapi('QueryRequest');

const AnswerSchema = z
  .object({
    id: z.string().nullable(),
    status: z.string(),
    columns: z.array(z.string()),
    rows: z.array(z.array(z.unknown())),
    accuracy: z.array(z.array(z.unknown().nullable())),
    cost: z.object({
      epsilon: z.number(),
      delta: z.number(),
      rho: z.number().optional(),
      mechanism: z.string(),
    }),
    scope: z.object({ communities: z.array(z.string()), narrowed: z.boolean() }),
    charged: z.array(
      z.object({
        community: z.string(),
        accounting: z.string(),
        epsilon: z.string(),
        delta: z.string(),
        rho: z.string().nullable(),
      }),
    ),
    remaining: z.record(z.string(), RemainingSchema),
    policy_version: z.string(),
    repeated: z.boolean().optional(),
  })
  .passthrough()
  .openapi('Answer');

const problems = {
  ...AUTH_PROBLEMS,
  409: {
    description: 'budget_exhausted, or answer_pending',
    content: { 'application/problem+json': { schema: ProblemSchema } },
  },
  422: {
    description: 'The query was refused (code says why; position points into the SQL)',
    content: { 'application/problem+json': { schema: ProblemSchema } },
  },
} as const;

const postRoute = createRoute({
  method: 'post',
  path: '/v1/queries',
  operationId: 'createQuery',
  summary: 'Ask an aggregate SQL query; get noisy rows, their accuracy and the privacy cost charged',
  tags: ['queries'],
  security: BEARER,
  middleware: [requireRole('analyst', 'council')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: QueryRequestSchema } } } },
  responses: {
    ...INVALID_REQUEST,
    500: problem('execution_failed: the query failed while running; its charge stands'),
    200: {
      description: 'The released answer (or, for dry_run, its cost and accuracy)',
      content: { 'application/json': { schema: AnswerSchema } },
    },
    ...problems,
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/queries/{id}',
  operationId: 'getQuery',
  summary: 'A released answer, as it was released',
  tags: ['queries'],
  security: BEARER,
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    ...INVALID_REQUEST,
    200: { description: 'The stored answer', content: { 'application/json': { schema: AnswerSchema } } },
    ...AUTH_PROBLEMS,
    404: {
      description: 'No such answer for this principal',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
  },
});

export interface QueryRouteOptions {
  /** Tests only: a seeded noise source and failure injection. */
  readonly random?: RandomSource;
  readonly faults?: FaultInjector;
}

export function queryRoutes(deps: AppDependencies, options: QueryRouteOptions = {}) {
  const repeats = new RepeatCache();
  return new OpenAPIHono<AppEnv>()
    .openapi(postRoute, async (c) => {
      const body = c.req.valid('json');
      const headerKey = c.req.header('idempotency-key');
      const ask = (query: QueryBody) =>
        answerQuery(
          {
            db: deps.db,
            queries: deps.queries,
            policy: deps.policies.current,
            principal: c.var.principal,
            requestId: c.var.requestId,
            random: options.random,
            faults: options.faults,
            pendingAnswerTimeoutMs: deps.pendingAnswerTimeoutMs,
            repeats,
          },
          query,
        );
      const query = { ...body, idempotency_key: body.idempotency_key ?? headerKey };
      const outcome = await ask(query).catch(async (error: unknown) => {
        // Another gateway applied a newer policy: adopt it from the database and plan again, once.
        if (!(error instanceof PolicySupersededError)) throw error;
        await adoptPolicyInForce(deps, error.versionInForce);
        return ask(query);
      });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (outcome.replayed) headers['idempotent-replayed'] = 'true';
      return c.body(outcome.text, 200, headers) as never;
    })
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.var.principal;
      const answer = await findAnswer(deps.db, id);
      // Analysts see only their own answers; the council sees all. Others learn nothing, not even existence.
      const visible = answer && (principal.role === 'council' || answer.principal_id === principal.id);
      if (!visible || answer.status !== 'released' || !answer.response)
        throw new Problem('not_found', 'There is no released answer with this id for you.');
      return c.json(answer.response as z.infer<typeof AnswerSchema>, 200);
    });
}

/** Makes the version another gateway put in force this gateway's policy too. */
async function adoptPolicyInForce(deps: AppDependencies, version: string): Promise<void> {
  if (deps.policies.current.version === version) return;
  const snapshot = await appliedPolicy(deps.db, version);
  if (!snapshot) throw new PolicySupersededError(version);
  deps.policies.accept(snapshot);
  deps.logger.warn({ policy_version: version }, 'adopted the policy another gateway put in force');
}
