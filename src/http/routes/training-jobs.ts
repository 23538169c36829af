/**
 * DP-SGD jobs (`/v1/training-jobs`) and the models they release (`/v1/models`). Starting a job
 * charges its full cost before training begins; progress and the final model are the only things
 * that leave it. Jobs and models are visible to the analyst who started them and to the council.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.ts';
import {
  failInterruptedJobs,
  HEARTBEAT_TIMEOUT_MS,
  priceTrainingJob,
  requestCancel,
  startTrainingJob,
} from '../../jobs/training-jobs.ts';
import { jobCost, TrainingRefusal, TrainingRequestSchema } from '../../jobs/training-request.ts';
import { BudgetExhaustedError } from '../../ledger/charge.ts';
import type { Principal } from '../../principals/principal.ts';
import { predict, type TableRow, type TrainedModel } from '../../train/index.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { AUTH_PROBLEMS, BEARER, INVALID_REQUEST, ProblemSchema } from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

const notFound = {
  description: 'No such job or model for you',
  content: { 'application/problem+json': { schema: ProblemSchema } },
};
const JobSchema = z.record(z.string(), z.unknown()).openapi('TrainingJob');
const Id = z.object({ id: z.uuid() });
const ListSchema = z
  .object({ items: z.array(JobSchema), next_cursor: z.string().nullable() })
  .openapi('Page');
const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** `next_cursor` of the page before: items created before it. */
  cursor: z.string().max(200).optional(),
});
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const EVENT_POLL_MS = 500;

const startRoute = createRoute({
  method: 'post',
  path: '/v1/training-jobs',
  operationId: 'startTrainingJob',
  summary:
    'Train a model with DP-SGD on a governed table; the full cost is charged before training starts. With `dry_run`, only price it.',
  tags: ['training'],
  security: BEARER,
  middleware: [requireRole('analyst', 'council')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: TrainingRequestSchema } } } },
  responses: {
    ...INVALID_REQUEST,
    200: {
      description:
        'dry_run: the cost and what each community would have left (nothing charged, no data read)',
      content: { 'application/json': { schema: JobSchema } },
    },
    202: { description: 'Charged and queued', content: { 'application/json': { schema: JobSchema } } },
    ...AUTH_PROBLEMS,
    409: {
      description: 'budget_exhausted',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
    422: {
      description: 'The request cannot be made private',
      content: { 'application/problem+json': { schema: ProblemSchema } },
    },
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/training-jobs/{id}',
  operationId: 'getTrainingJob',
  summary: 'A job: status, public progress, cost, and its model when done',
  tags: ['training'],
  security: BEARER,
  request: { params: Id },
  responses: {
    ...INVALID_REQUEST,
    200: { description: 'The job', content: { 'application/json': { schema: JobSchema } } },
    ...AUTH_PROBLEMS,
    404: notFound,
  },
});

const eventsRoute = createRoute({
  method: 'get',
  path: '/v1/training-jobs/{id}/events',
  operationId: 'streamTrainingJobEvents',
  summary:
    'Server-sent events: `progress` (step, epoch, ε spent by the job’s accountant, planned persons per step) and `status`, until the job ends',
  tags: ['training'],
  security: BEARER,
  request: { params: Id },
  responses: {
    ...INVALID_REQUEST,
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...AUTH_PROBLEMS,
    404: notFound,
  },
});

const cancelRoute = createRoute({
  method: 'post',
  path: '/v1/training-jobs/{id}/cancel',
  operationId: 'cancelTrainingJob',
  summary: 'Stop a job in any state (its charge stands); an ended job is left as it is',
  tags: ['training'],
  security: BEARER,
  request: { params: Id },
  responses: {
    ...INVALID_REQUEST,
    200: {
      description: 'The job has ended: cancelled now, or already succeeded, failed or cancelled',
      content: { 'application/json': { schema: JobSchema } },
    },
    202: {
      description: 'Cancel requested from the gateway running the job',
      content: { 'application/json': { schema: JobSchema } },
    },
    ...AUTH_PROBLEMS,
    404: notFound,
  },
});

const listJobsRoute = createRoute({
  method: 'get',
  path: '/v1/training-jobs',
  operationId: 'listTrainingJobs',
  summary: 'Your training jobs (a council sees all), newest first, paginated',
  tags: ['training'],
  security: BEARER,
  request: { query: PageQuery },
  responses: {
    200: { description: 'A page of jobs', content: { 'application/json': { schema: ListSchema } } },
    ...AUTH_PROBLEMS,
  },
});

const listModelsRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  operationId: 'listModels',
  summary: 'Your released models (a council sees all), newest first, paginated; cards without weights',
  tags: ['training'],
  security: BEARER,
  request: { query: PageQuery },
  responses: {
    200: { description: 'A page of models', content: { 'application/json': { schema: ListSchema } } },
    ...AUTH_PROBLEMS,
  },
});

const modelRoute = createRoute({
  method: 'get',
  path: '/v1/models/{id}',
  operationId: 'getModel',
  summary:
    'A released model: weights and model card (features and bounds, label, ε, δ, σ, q, steps, clip norm, accountant)',
  tags: ['training'],
  security: BEARER,
  request: { params: Id },
  responses: {
    ...INVALID_REQUEST,
    200: { description: 'The model', content: { 'application/json': { schema: JobSchema } } },
    ...AUTH_PROBLEMS,
    404: notFound,
  },
});

const predictRoute = createRoute({
  method: 'post',
  path: '/v1/models/{id}/predict',
  operationId: 'predictWithModel',
  summary: 'Predictions for rows you send (post-processing of the released model: free)',
  tags: ['training'],
  security: BEARER,
  request: {
    params: Id,
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              rows: z
                .array(z.record(z.string(), z.union([z.number(), z.null()])))
                .min(1)
                .max(10_000),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    ...INVALID_REQUEST,
    200: { description: 'One prediction per row', content: { 'application/json': { schema: JobSchema } } },
    ...AUTH_PROBLEMS,
    404: notFound,
  },
});

export function trainingRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>()
    .openapi(startRoute, async (c) => {
      try {
        const request = c.req.valid('json');
        const context = {
          db: deps.db,
          policy: deps.policies.current,
          principal: c.var.principal,
          requestId: c.var.requestId,
          aggregation: deps.federation?.aggregation,
        };
        if (request.dry_run) return c.json(await priceTrainingJob(context, request), 200);
        const job = await startTrainingJob(context, request);
        return c.json(
          {
            id: job.id,
            status: 'queued',
            cost: jobCost(job.resolved),
            charged: job.charged.map((charge) => ({
              community: charge.communityId,
              accounting: charge.accounting,
              ...charge.charged,
            })),
            remaining: Object.fromEntries(
              job.charged.map((charge) => [charge.communityId, charge.remaining]),
            ),
            events: `/v1/training-jobs/${job.id}/events`,
          },
          202,
        );
      } catch (error) {
        if (error instanceof TrainingRefusal) throw new Problem(error.code, error.message);
        if (error instanceof BudgetExhaustedError) throw new Problem('budget_exhausted', error.message);
        throw error;
      }
    })
    .openapi(listJobsRoute, async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = await listOwn(deps.db, 'dpgate.training_jobs', c.var.principal, limit, cursor);
      return c.json({ items: page.rows.map((row) => jobView(row as JobRow)), next_cursor: page.next }, 200);
    })
    .openapi(listModelsRoute, async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = await listOwn(deps.db, 'dpgate.models', c.var.principal, limit, cursor);
      return c.json(
        {
          items: page.rows.map((row) => {
            const model = row as ModelRow;
            return {
              id: model.id,
              job_id: model.job_id,
              kind: model.kind,
              created_at: model.created_at.toISOString(),
              card: model.card,
              model: `/v1/models/${model.id}`,
            };
          }),
          next_cursor: page.next,
        },
        200,
      );
    })
    .openapi(getRoute, async (c) =>
      c.json(jobView(await visibleJob(deps.db, c.req.valid('param').id, c.var.principal)), 200),
    )
    .openapi(eventsRoute, async (c) => {
      const { id } = c.req.valid('param');
      await visibleJob(deps.db, id, c.var.principal);
      return streamSSE(c, async (stream) => {
        let last = '';
        for (;;) {
          const job = await findJob(deps.db, id);
          if (!job) return;
          const view = JSON.stringify({ status: job.status, progress: job.progress });
          if (view !== last) {
            last = view;
            await stream.writeSSE({
              event: job.progress ? 'progress' : 'status',
              data: JSON.stringify(jobView(job)),
            });
          }
          if (TERMINAL.has(job.status)) {
            await stream.writeSSE({ event: 'done', data: JSON.stringify(jobView(job)) });
            return;
          }
          await stream.sleep(EVENT_POLL_MS);
        }
      }) as never;
    })
    .openapi(cancelRoute, async (c) => {
      const { id } = c.req.valid('param');
      await visibleJob(deps.db, id, c.var.principal);
      const cancel = await requestCancel(deps.db, id);
      if (cancel.outcome === 'requested')
        return c.json({ id, cancel_requested: true, status: 'running' }, 202);
      return c.json({ id, cancel_requested: cancel.status === 'cancelled', status: cancel.status }, 200);
    })
    .openapi(modelRoute, async (c) => {
      const model = await visibleModel(deps.db, c.req.valid('param').id, c.var.principal);
      return c.json(
        {
          id: model.id,
          job_id: model.job_id,
          created_at: model.created_at.toISOString(),
          card: model.card,
          weights: model.weights,
        },
        200,
      );
    })
    .openapi(predictRoute, async (c) => {
      const model = await visibleModel(deps.db, c.req.valid('param').id, c.var.principal);
      const trained: TrainedModel = {
        parameters: Float64Array.from(model.weights as number[]),
        card: model.card as TrainedModel['card'],
      };
      return c.json({ predictions: predict(trained, c.req.valid('json').rows as TableRow[]) }, 200);
    });
}

function readJob(db: Kysely<Database>, id: string) {
  return db.selectFrom('dpgate.training_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

type JobRow = NonNullable<Awaited<ReturnType<typeof readJob>>>;
type ModelRow = NonNullable<Awaited<ReturnType<typeof findModel>>>;

/** The job; a live one whose heartbeat looks stopped is first checked and ended on the database's clock. */
async function findJob(db: Kysely<Database>, id: string): Promise<JobRow | undefined> {
  const job = await readJob(db, id);
  if (!job || !(job.status === 'queued' || job.status === 'running')) return job;
  const beat = job.heartbeat_at?.getTime() ?? 0;
  if (Date.now() - beat < HEARTBEAT_TIMEOUT_MS) return job;
  return (await failInterruptedJobs(db, id)) > 0 ? readJob(db, id) : job;
}

function findModel(db: Kysely<Database>, id: string) {
  return db.selectFrom('dpgate.models').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * One page of the caller's rows (every row for a council), newest first. The cursor is the last
 * row's (created_at, id), so pages neither skip nor repeat rows when new ones arrive.
 */
async function listOwn(
  db: Kysely<Database>,
  table: 'dpgate.training_jobs' | 'dpgate.models',
  principal: Principal,
  limit: number,
  cursor: string | undefined,
) {
  const after = cursor === undefined ? undefined : parseCursor(cursor);
  // Ordered on the millisecond the cursor can carry (timestamps hold microseconds).
  const created = sql<Date>`date_trunc('milliseconds', created_at)`;
  let query = db
    .selectFrom(table)
    .selectAll()
    .orderBy(created, 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (principal.role !== 'council') query = query.where('principal_id', '=', principal.id);
  if (after)
    query = query.where((eb) =>
      eb.or([
        eb(created, '<', after.createdAt),
        eb.and([eb(created, '=', after.createdAt), eb('id', '<', after.id)]),
      ]),
    );
  const rows = await query.execute();
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return {
    rows: rows.slice(0, limit),
    next: last
      ? Buffer.from(JSON.stringify([last.created_at.toISOString(), last.id])).toString('base64url')
      : null,
  };
}

function parseCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !z.uuid().safeParse(id).success) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new Problem('invalid_request', 'cursor: not a cursor this list returned');
  }
}

async function visibleJob(db: Kysely<Database>, id: string, principal: Principal): Promise<JobRow> {
  const job = await findJob(db, id);
  if (!job || !(principal.role === 'council' || job.principal_id === principal.id)) {
    throw new Problem('not_found', 'There is no training job with this id for you.');
  }
  return job;
}

async function visibleModel(db: Kysely<Database>, id: string, principal: Principal) {
  const model = await findModel(db, id);
  if (!model || !(principal.role === 'council' || model.principal_id === principal.id)) {
    throw new Problem('not_found', 'There is no model with this id for you.');
  }
  return model;
}

function jobView(job: JobRow) {
  return {
    id: job.id,
    status: job.status,
    spec: job.spec,
    cost: job.cost,
    progress: job.progress,
    error: job.error,
    model_id: job.model_id,
    model: job.model_id ? `/v1/models/${job.model_id}` : null,
    policy_version: job.policy_version,
    created_at: job.created_at.toISOString(),
    started_at: job.started_at?.toISOString() ?? null,
    finished_at: job.finished_at?.toISOString() ?? null,
  };
}
