/**
 * DP-SGD jobs (`/v1/training-jobs`) and the models they release (`/v1/models`). Starting a job
 * charges its full cost before training begins; progress and the final model are the only things
 * that leave it. Jobs and models are visible to the analyst who started them and to the council.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { jobCost, requestCancel, startTrainingJob } from '../../jobs/training-jobs.ts';
import { TrainingRefusal, TrainingRequestSchema } from '../../jobs/training-request.ts';
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
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const EVENT_POLL_MS = 500;

const startRoute = createRoute({
  method: 'post',
  path: '/v1/training-jobs',
  operationId: 'startTrainingJob',
  summary: 'Train a model with DP-SGD on a governed table; the full cost is charged before training starts',
  tags: ['training'],
  security: BEARER,
  middleware: [requireRole('analyst', 'council')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: TrainingRequestSchema } } } },
  responses: {
    ...INVALID_REQUEST,
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
    'Server-sent events: `progress` (step, epoch, ε spent, examples/s) and `status`, until the job ends',
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
  summary: 'Stop a queued or running job (its charge stands)',
  tags: ['training'],
  security: BEARER,
  request: { params: Id },
  responses: {
    ...INVALID_REQUEST,
    202: { description: 'Cancel requested', content: { 'application/json': { schema: JobSchema } } },
    ...AUTH_PROBLEMS,
    404: notFound,
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
        const job = await startTrainingJob(
          {
            db: deps.db,
            policy: deps.policies.current,
            principal: c.var.principal,
            requestId: c.var.requestId,
          },
          c.req.valid('json'),
        );
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
      const requested = await requestCancel(deps.db, id);
      return c.json({ id, cancel_requested: requested }, 202);
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

function findJob(db: Kysely<Database>, id: string) {
  return db.selectFrom('dpgate.training_jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

type JobRow = NonNullable<Awaited<ReturnType<typeof findJob>>>;

async function visibleJob(db: Kysely<Database>, id: string, principal: Principal): Promise<JobRow> {
  const job = await findJob(db, id);
  if (!job || !(principal.role === 'council' || job.principal_id === principal.id)) {
    throw new Problem('not_found', 'There is no training job with this id for you.');
  }
  return job;
}

async function visibleModel(db: Kysely<Database>, id: string, principal: Principal) {
  const model = await db.selectFrom('dpgate.models').selectAll().where('id', '=', id).executeTakeFirst();
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
