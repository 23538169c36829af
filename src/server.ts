/**
 * The Node entry: open the gateway, serve the app with @hono/node-server, and shut down cleanly on
 * SIGINT/SIGTERM (stop accepting, let in-flight requests finish, close the database so PGlite's
 * data directory is left intact).
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Config } from './config.ts';
import { demoBanner } from './demo/demo-keys.ts';
import { openGateway } from './gateway.ts';
import { createApp } from './http/app.ts';
import { DOCS_ASSETS } from './http/routes/docs.ts';
import { createLogger } from './logger.ts';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

async function readDocsAsset(name: string): Promise<Uint8Array | undefined> {
  return name in DOCS_ASSETS ? readFile(join(swaggerUiDir, name)) : undefined;
}

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const started = performance.now();
  const logger = createLogger(config.LOG_LEVEL);
  const gateway = await openGateway({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DPGATE_DATA_DIR,
    policyDir: config.DPGATE_POLICY_DIR,
    demo: config.DPGATE_DEMO,
    logger,
  });
  const app = createApp({
    db: gateway.database.db,
    databaseKind: gateway.database.driver.kind,
    policies: gateway.policies,
    logger,
    readAsset: readDocsAsset,
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
      const finished = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), config.DPGATE_SHUTDOWN_TIMEOUT_MS);
      await finished;
      clearTimeout(timer);
      await gateway.database.close();
      logger.info({}, 'dpgate stopped');
    })();
    return closing;
  };
  return { url, close };
}

/** Runs until SIGINT or SIGTERM, then shuts down and exits. */
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
}
