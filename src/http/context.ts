/** What every handler can reach: the request's own variables and the app's dependencies. */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { QueryRunner } from '../db/query-runner.ts';
import type { PolicyStore } from '../policy/policy-store.ts';
import type { PolicyReloader } from '../policy/reloader.ts';
import type { Principal } from '../principals/principal.ts';
import type { GatewayMetrics } from './middleware/metrics.ts';
import type { Limiter } from './request-limiter.ts';
import type { FederationDependencies } from './routes/federated-queries.ts';
import type { QueryRouteOptions } from './routes/queries.ts';

/** The subset of pino's logger the app uses, so tests and Workers can pass their own. */
export interface Logger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
  child(fields: object): Logger;
}

export interface AppDependencies {
  readonly db: Kysely<Database>;
  /** Reads that must not queue behind charges (health, ledger views, keys); `db` when absent. */
  readonly readDb?: Kysely<Database>;
  /** Where analysts' rewritten SQL runs: its own connections on PostgreSQL (db/query-pool.ts). */
  readonly queries: QueryRunner;
  readonly databaseKind: 'postgres' | 'pglite';
  readonly policies: PolicyStore;
  readonly logger: Logger;
  /** Reads a bundled static asset (the API docs viewer); undefined where none are bundled. */
  readonly readAsset?: (name: string) => Promise<Uint8Array | undefined>;
  /** Reads a built dashboard file (`index.html`, `assets/<hashed name>`); undefined where not built. */
  readonly readWebAsset?: (path: string) => Promise<Uint8Array | undefined>;
  /** Tests only: a seeded noise source and failure injection for the query flow. */
  readonly testing?: QueryRouteOptions;
  /** Re-reads the policy directory on request; absent where there is none (Workers). */
  readonly policyReloader?: PolicyReloader;
  /** Per-key limits on `/v1/*`; absent, requests are not limited (tests, Workers' own rules). */
  readonly requestLimiter?: Limiter;
  /** After this long a pending answer is taken as cut off and resolved as failed. */
  readonly pendingAnswerTimeoutMs?: number;
  /** How long a valid API key is kept without looking it up again (principals/key-cache.ts); absent, 0. */
  readonly keyCacheMs?: number;
  /** The gateway's federation key and transport; absent, federated routes are not served. */
  readonly federation?: FederationDependencies;
  /** False where training threads cannot run (Workers): starting a job is refused. Default true. */
  readonly runsTraining?: boolean;
  /** Prometheus metrics served on `/metrics`; absent, there is no such route (Workers). */
  readonly metrics?: GatewayMetrics;
  /** When set, `/metrics` needs `Authorization: Bearer <this token>`. */
  readonly metricsToken?: string;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    principal: Principal;
  };
}
