/**
 * The dpgate HTTP app: one `fetch` function built from web standards. Runtime adapters (`server.ts`
 * for Node, `worker.ts` for Workers) only hand it its dependencies.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { isDatabaseUnavailable } from '../db/database-errors.ts';
import { PolicySupersededError } from '../ledger/charge.ts';
import { keyLookup } from '../principals/key-cache.ts';
import type { AppDependencies, AppEnv } from './context.ts';
import { authenticate } from './middleware/auth.ts';
import { bodyChecks } from './middleware/body-checks.ts';
import { measureRequests } from './middleware/metrics.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { requestLog } from './middleware/request-log.ts';
import { Problem, problemResponse } from './problem.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { chargeRoutes } from './routes/charges.ts';
import { communityRoutes } from './routes/communities.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { docsRoutes } from './routes/docs.ts';
import { federatedQueryRoutes } from './routes/federated-queries.ts';
import { federationRoutes } from './routes/federation.ts';
import { governanceRoutes } from './routes/governance.ts';
import { healthRoutes } from './routes/health.ts';
import { historyRoutes } from './routes/history.ts';
import { keyRoutes } from './routes/keys.ts';
import { meRoutes } from './routes/me.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { policyRoutes } from './routes/policies.ts';
import { queryRoutes } from './routes/queries.ts';
import { trainingRoutes } from './routes/training-jobs.ts';

export function createApp(deps: AppDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: rejectInvalidRequest });

  if (deps.metrics) app.use(measureRequests(deps.metrics));
  app.use(requestId({ headerName: 'x-request-id' }));
  app.use(requestLog(deps.logger));
  const keys = keyLookup(deps.readDb ?? deps.db, deps.keyCacheMs);
  app.use('/v1/*', authenticate(keys));
  if (deps.requestLimiter) app.use('/v1/*', rateLimit(deps.requestLimiter));
  app.use(bodyChecks());
  if (deps.runsTraining === false) app.post('/v1/training-jobs', refuseTraining);

  app.route('/', healthRoutes(deps));
  if (deps.metrics) app.route('/', metricsRoutes(deps.metrics, deps.metricsToken));
  app.route('/', docsRoutes(deps));
  app.route('/', meRoutes(deps));
  app.route('/', policyRoutes(deps));
  app.route('/', governanceRoutes(deps));
  app.route('/', communityRoutes(deps));
  app.route('/', chargeRoutes(deps));
  app.route('/', catalogRoutes(deps));
  app.route('/', historyRoutes(deps));
  app.route('/', queryRoutes(deps, deps.testing));
  app.route('/', trainingRoutes(deps));
  app.route('/', keyRoutes(deps, keys));
  app.route('/', dashboardRoutes(deps));
  app.route('/', federatedQueryRoutes(deps));
  app.route('/', federationRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key made by `dpgate keys create`.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'dpgate',
      version: '0.1.0',
      description: 'A differentially private query and statistics gateway for a data commons.',
    },
  });

  app.notFound((c) =>
    problemResponse(
      new Problem('not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`),
      c.var.requestId,
    ),
  );
  app.onError((error, c) => {
    const logger = c.var.logger ?? deps.logger;
    if (error instanceof PolicySupersededError) {
      return problemResponse(
        new Problem('policy_superseded', 'A newer policy took effect while this request was planned.', {
          headers: { 'retry-after': '1' },
        }),
        c.var.requestId,
      );
    }
    if (!(error instanceof Problem) && isDatabaseUnavailable(error)) {
      // The SQLSTATE only: a database message may quote data values.
      logger.warn({ cause_code: (error as { code?: unknown }).code }, 'database unavailable');
      return problemResponse(
        new Problem('database_unavailable', 'The database could not serve this request now; retry shortly.', {
          headers: { 'retry-after': '1' },
        }),
        c.var.requestId,
      );
    }
    if (error instanceof Problem) {
      if (error.status >= 500 && error.cause) {
        // The SQLSTATE and error class only: a database message may quote data values.
        const cause = error.cause as { code?: unknown; name?: unknown };
        logger.error({ code: error.code, cause_code: cause.code, cause_name: cause.name }, 'request failed');
      }
      return problemResponse(error, c.var.requestId);
    }
    if (error instanceof HTTPException && error.status === 400) {
      // Hono's JSON validator: a body that does not parse (malformed, truncated).
      return problemResponse(
        new Problem('invalid_json', 'The request body is not valid JSON.'),
        c.var.requestId,
      );
    }
    if (error instanceof HTTPException && error.status === 413) {
      return problemResponse(
        new Problem('payload_too_large', 'The request body is too large.'),
        c.var.requestId,
      );
    }
    // Anything unexpected is logged in full here and described to the client in general terms only,
    // because its message may carry values from the database.
    logger.error({ err: error }, 'unhandled error');
    return problemResponse(
      new Problem(
        'internal_error',
        'Something went wrong inside dpgate. The request id identifies it in the logs.',
      ),
      c.var.requestId,
    );
  });
  return app;
}

export type App = ReturnType<typeof createApp>;

/** Workers have no threads for DP-SGD: jobs go to a Node gateway on the same database. */
function refuseTraining(): never {
  throw new Problem(
    'training_unavailable',
    'This gateway runs on Cloudflare Workers, which cannot run training jobs. Start the job on a Node gateway (dpgate serve) over the same database; its models and charges are then visible here too.',
  );
}

/** Validation failures name the fields at fault and what is wrong, never echoing the values sent. */
function rejectInvalidRequest(result: {
  success: boolean;
  error?: { issues: readonly { path: PropertyKey[]; message: string }[] };
}) {
  if (result.success || !result.error) return;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  throw new Problem('invalid_request', issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; '), {
    extensions: { issues },
  });
}
