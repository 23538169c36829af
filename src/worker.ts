/**
 * The Cloudflare Workers entry: the same app as on Node, over PostgreSQL (through Hyperdrive or a
 * DATABASE_URL secret). A Worker has no policy directory: it serves the newest policy that took
 * effect in the database (applied by `dpgate serve` or `dpgate policy check` on Node). It does not
 * migrate or load the demo; run `dpgate migrate` against the database first.
 */
import { openPostgres } from './db/connect-postgres.ts';
import { createApp } from './http/app.ts';
import type { Logger } from './http/context.ts';
import { latestAppliedPolicy } from './ledger/policy-versions.ts';
import { PolicyStore } from './policy/policy-store.ts';

export interface WorkerEnv {
  readonly HYPERDRIVE?: { readonly connectionString: string };
  readonly DATABASE_URL?: string;
}

type App = ReturnType<typeof createApp>;
let app: Promise<App> | undefined;

export default {
  async fetch(request: Request, env: WorkerEnv, context: unknown): Promise<Response> {
    app ??= buildApp(env).catch((error: unknown) => {
      app = undefined;
      throw error;
    });
    return (await app).fetch(request, env, context as never);
  },
};

async function buildApp(env: WorkerEnv): Promise<App> {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url) throw new Error('set a HYPERDRIVE binding or a DATABASE_URL secret');
  const database = openPostgres(url, 5);
  const policy = await latestAppliedPolicy(database.db);
  if (!policy)
    throw new Error('no policy has taken effect in this database yet; run `dpgate serve` once on Node');
  return createApp({
    db: database.db,
    databaseKind: 'postgres',
    policies: new PolicyStore(policy),
    logger: consoleLogger({ service: 'dpgate' }),
  });
}

/** JSON lines on the Workers console, in the same shape as pino's on Node. */
function consoleLogger(bound: Record<string, unknown>): Logger {
  const write = (level: string) => (fields: object, message?: string) =>
    console.log(JSON.stringify({ level, time: new Date().toISOString(), ...bound, ...fields, msg: message }));
  return {
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => consoleLogger({ ...bound, ...fields }),
  };
}
