/**
 * The Cloudflare Workers entry: the same app as on Node, over PostgreSQL (through Hyperdrive or a
 * DATABASE_URL secret). A Worker has no policy directory: it serves the newest policy that took
 * effect in the database (applied by `dpgate serve` on Node, or its policy reload). It does not
 * migrate or load the demo; run `dpgate migrate` against the database first.
 */
// First: the SQL modules parse at load, so the parser's WASM must be provided before they run.
import './worker-wasm.ts';
import { openPostgres } from './db/connect-postgres.ts';
import { createApp } from './http/app.ts';
import type { Logger } from './http/context.ts';
import { latestAppliedPolicy } from './ledger/policy-versions.ts';
import { PolicyStore } from './policy/policy-store.ts';

export interface WorkerEnv {
  readonly HYPERDRIVE?: { readonly connectionString: string };
  readonly DATABASE_URL?: string;
}

interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * One database handle per request. A Worker may not use a socket opened while serving another
 * request (the runtime cancels it as hung), so nothing holding a connection outlives its request;
 * Hyperdrive pools the connections to PostgreSQL,
 * per transaction: a session set up for the query role would not stay one, so data queries run as
 * read-only transactions (db/read-only-transaction.ts). Reading the policy per request also means a new
 * version applied by a Node gateway takes effect here at once.
 */
export default {
  async fetch(request: Request, env: WorkerEnv, context: WorkerContext): Promise<Response> {
    const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
    if (!url) return unavailable('set a HYPERDRIVE binding or a DATABASE_URL secret');
    const database = openPostgres(url, 5, { queryConnections: 'transactions' });
    try {
      const policy = await latestAppliedPolicy(database.db);
      if (!policy)
        return unavailable(
          'no policy has taken effect in this database yet; run `dpgate serve` once on Node',
        );
      const app = createApp({
        db: database.db,
        queries: database.queries,
        databaseKind: 'postgres',
        policies: new PolicyStore(policy),
        logger,
        runsTraining: false,
      });
      return await app.fetch(request, env, context as never);
    } finally {
      context.waitUntil(database.close());
    }
  },
};

function unavailable(detail: string): Response {
  logger.error({ detail }, 'dpgate cannot serve');
  return new Response(
    JSON.stringify({
      type: 'https://dpgate.dev/problems/database_unavailable',
      status: 503,
      code: 'database_unavailable',
      detail,
    }),
    { status: 503, headers: { 'content-type': 'application/problem+json' } },
  );
}

const logger = consoleLogger({ service: 'dpgate' });

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
