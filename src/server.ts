/**
 * The Node entry: open the gateway, serve the app with @hono/node-server, and shut down cleanly on
 * SIGINT/SIGTERM (stop accepting, let in-flight requests finish, close the database so PGlite's
 * data directory is left intact). The policy directory is reloaded when it changes and on SIGHUP.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { type Config, ConfigError } from './config.ts';
import type { DatabaseHandle } from './db/connect.ts';
import { demoBanner } from './demo/demo-keys.ts';
import { federationFromKeyFile } from './federation/gateway-setup.ts';
import { directoryPolicyReloader, openGateway, resolveAbandonedAnswers } from './gateway.ts';
import { createApp } from './http/app.ts';
import type { Logger } from './http/context.ts';
import { createMetrics } from './http/metrics.ts';
import { postgresLimiterStore } from './http/postgres-limiter-store.ts';
import { type Limiter, RequestLimiter } from './http/request-limiter.ts';
import { DOCS_ASSETS } from './http/routes/docs.ts';
import { SharedRequestLimiter } from './http/shared-request-limiter.ts';
import { watchJobLiveness } from './jobs/training-jobs.ts';
import { createLogger } from './logger.ts';
import type { ReloadOutcome, ReloadTrigger } from './policy/reloader.ts';
import { watchDirectory } from './policy/watch-directory.ts';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

async function readDocsAsset(name: string): Promise<Uint8Array | undefined> {
  return name in DOCS_ASSETS ? readFile(join(swaggerUiDir, name)) : undefined;
}

/** The built dashboard (`npm run build:web`); the route admits only `index.html` and hashed asset names. */
const webDist = fileURLToPath(new URL('../web/dist/', import.meta.url));

function readWebAsset(path: string): Promise<Uint8Array | undefined> {
  return readFile(join(webDist, path)).catch(() => undefined);
}

export interface RunningServer {
  readonly url: string;
  reloadPolicy(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const started = performance.now();
  const logger = createLogger(config.LOG_LEVEL);
  const gateway = await openGateway({
    databaseUrl: config.DATABASE_URL,
    queryConnections: config.DPGATE_QUERY_CONNECTIONS,
    maxConnections: config.DPGATE_DATABASE_CONNECTIONS,
    dataDir: config.DPGATE_DATA_DIR,
    policyDir: config.DPGATE_POLICY_DIR,
    demo: config.DPGATE_DEMO,
    logger,
    pendingAnswerTimeoutMs: config.DPGATE_PENDING_ANSWER_TIMEOUT_MS,
  });
  const sweep = setInterval(
    () =>
      void resolveAbandonedAnswers(
        gateway.database.db,
        config.DPGATE_PENDING_ANSWER_TIMEOUT_MS,
        logger,
      ).catch((err: unknown) =>
        logger.warn({ cause_code: (err as { code?: unknown }).code }, 'pending answer sweep failed'),
      ),
    Math.max(1_000, Math.min(30_000, config.DPGATE_PENDING_ANSWER_TIMEOUT_MS / 2)),
  );
  sweep.unref();
  const policyReloader = directoryPolicyReloader({
    db: gateway.database.db,
    policyDir: config.DPGATE_POLICY_DIR,
    policies: gateway.policies,
    logger,
  });
  const policyWatch = config.DPGATE_POLICY_WATCH
    ? watchDirectory({
        directory: config.DPGATE_POLICY_DIR,
        onChange: () => void policyReloader.reload('watch'),
        onError: (err) => logger.warn({ err }, 'watching the policy directory failed; use SIGHUP to reload'),
      })
    : undefined;
  // Any gateway ends training jobs whose gateway stopped beating, without waiting for a restart.
  const stopLivenessWatch = watchJobLiveness(gateway.database.db, {
    onInterrupted: (interrupted) =>
      logger.warn(
        { interrupted },
        'training jobs whose heartbeat stopped marked failed; their charges stand',
      ),
  });
  const limiter = await requestLimiter(config, gateway.database, logger);
  const app = createApp({
    db: gateway.database.db,
    readDb: gateway.database.readDb,
    queries: gateway.database.queries,
    pendingAnswerTimeoutMs: config.DPGATE_PENDING_ANSWER_TIMEOUT_MS,
    keyCacheMs: config.DPGATE_KEY_CACHE_MS,
    databaseKind: gateway.database.driver.kind,
    policies: gateway.policies,
    logger,
    readAsset: readDocsAsset,
    readWebAsset,
    policyReloader,
    requestLimiter: limiter,
    federation: config.DPGATE_FEDERATION_KEY
      ? await federationFromKeyFile(config.DPGATE_FEDERATION_KEY, gateway.policies.current)
      : undefined,
    metrics: createMetrics({
      db: gateway.database.db,
      ...(gateway.database.driver.kind === 'postgres' ? { pool: gateway.database.driver.pool } : {}),
    }),
    metricsToken: config.DPGATE_METRICS_TOKEN,
  });

  const server = await new Promise<Server>((resolve) => {
    const listening = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, () =>
      resolve(listening as Server),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  logger.info({ url, startup_ms: Math.round(performance.now() - started) }, 'dpgate listening');
  if (gateway.demoKeys) process.stdout.write(demoBanner(gateway.demoKeys, gateway.demoKeysFile, url));

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      policyWatch?.close();
      clearInterval(sweep);
      stopLivenessWatch();
      const finished = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.DPGATE_SHUTDOWN_TIMEOUT_MS);
      await finished;
      clearTimeout(timer);
      await limiter.close?.();
      await gateway.database.close();
      logger.info({}, 'dpgate stopped');
    })();
    return closing;
  };
  return { url, reloadPolicy: (trigger) => policyReloader.reload(trigger), close };
}

/**
 * The configured store of the per-key limits: Redis when given one, else shared on PostgreSQL. The
 * Redis client is loaded only when used, so other gateways do not pay for loading it at start.
 */
async function requestLimiter(
  config: Config,
  database: DatabaseHandle,
  logger: Logger,
): Promise<Limiter & { close?(): Promise<void> }> {
  const limits = {
    perMinute: config.DPGATE_RATE_LIMIT_PER_MINUTE,
    burst: config.DPGATE_RATE_LIMIT_BURST,
    maxInFlight: config.DPGATE_MAX_IN_FLIGHT_PER_KEY,
  };
  const store =
    config.DPGATE_RATE_LIMIT_STORE ??
    (config.DPGATE_REDIS_URL ? 'redis' : database.driver.kind === 'postgres' ? 'postgres' : 'memory');
  if (store === 'memory') return new RequestLimiter(limits);
  if (store === 'redis' && !config.DPGATE_REDIS_URL) {
    throw new ConfigError('DPGATE_RATE_LIMIT_STORE=redis needs DPGATE_REDIS_URL');
  }
  const timeoutMs = config.DPGATE_RATE_LIMIT_TIMEOUT_MS;
  return new SharedRequestLimiter(
    store === 'redis'
      ? (await import('./http/redis-limiter-store.ts')).redisLimiterStore(config.DPGATE_REDIS_URL!, timeoutMs)
      : postgresLimiterStore(database.readDb),
    limits,
    {
      timeoutMs,
      leaseMs: config.DPGATE_IN_FLIGHT_LEASE_MS,
      onReturnError: (err: unknown) =>
        logger.warn(
          { cause_code: (err as { code?: unknown }).code },
          'giving back or renewing leased request limits failed; they expire',
        ),
    },
  );
}

/** Runs until SIGINT or SIGTERM, then shuts down and exits. SIGHUP reloads the policy directory. */
export async function runServer(config: Config): Promise<void> {
  const running = await startServer(config);
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.on('SIGHUP', () => void running.reloadPolicy('signal'));
}
