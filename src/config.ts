/**
 * Every setting dpgate reads from the environment, read in one place at the edge. The core never
 * reads the environment; it is handed what it needs.
 */
import { z } from 'zod';

const flag = z
  .enum(['1', '0', 'true', 'false', ''])
  .optional()
  .transform((value) => value === '1' || value === 'true');

const environment = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  DPGATE_DATA_DIR: z.string().min(1).default('.dpgate'),
  DPGATE_POLICY_DIR: z.string().min(1).default('policies'),
  DPGATE_DEMO: flag,
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DPGATE_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  DPGATE_POLICY_WATCH: z
    .enum(['1', '0', 'true', 'false'])
    .default('1')
    .transform((value) => value === '1' || value === 'true'),
  DPGATE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(120),
  DPGATE_RATE_LIMIT_BURST: z.coerce.number().int().positive().default(30),
  DPGATE_MAX_IN_FLIGHT_PER_KEY: z.coerce.number().int().positive().default(4),
  DPGATE_RATE_LIMIT_STORE: z.enum(['memory', 'postgres', 'redis']).optional(),
  DPGATE_REDIS_URL: z.string().url().optional(),
  DPGATE_RATE_LIMIT_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  DPGATE_IN_FLIGHT_LEASE_MS: z.coerce.number().int().positive().default(120_000),
  DPGATE_PENDING_ANSWER_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  DPGATE_KEY_CACHE_MS: z.coerce.number().int().nonnegative().default(2_000),
  DPGATE_QUERY_CONNECTIONS: z.enum(['sessions', 'transactions']).default('sessions'),
  DPGATE_DATABASE_CONNECTIONS: z.coerce.number().int().min(6).default(24),
  DPGATE_FEDERATION_KEY: z.string().min(1).optional(),
  DPGATE_METRICS_TOKEN: z.string().min(16).optional(),
});

export type Config = z.output<typeof environment>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable (`DATABASE_URL= npm start`) means "not set", as shells and .env files use it.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = environment.safeParse(set);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid environment:\n  ${problems.join('\n  ')}`);
}

/** Documented for the README's configuration table; kept beside the schema so the two agree. */
export const CONFIG_DOCS: Record<keyof Config, string> = {
  DATABASE_URL: 'PostgreSQL connection string. When unset, dpgate uses embedded PGlite.',
  DPGATE_DATA_DIR:
    'PGlite data directory (and where demo-keys.json is written); `memory://` for a throwaway database.',
  DPGATE_POLICY_DIR: 'Directory of policy files (`*.yaml`).',
  DPGATE_DEMO: '`1` loads the demo commons and creates demo keys on start (once per database).',
  HOST: 'Address the HTTP server listens on.',
  PORT: 'Port the HTTP server listens on.',
  LOG_LEVEL: 'pino log level: fatal, error, warn, info, debug, trace or silent.',
  DPGATE_SHUTDOWN_TIMEOUT_MS: 'How long a shutdown waits for in-flight requests before closing anyway.',
  DPGATE_POLICY_WATCH:
    '`1` reloads the policy directory when a file in it changes; `0` reloads only on SIGHUP or `dpgate policy reload`.',
  DPGATE_RATE_LIMIT_PER_MINUTE:
    'Requests per minute each API key may make to `/v1/*` (token bucket refill rate; across all gateways with the `postgres` store).',
  DPGATE_PENDING_ANSWER_TIMEOUT_MS:
    'How old a charged answer left pending (its gateway crashed or lost the database) must be before a retry resolves it as failed; keep it above every policy’s statement_timeout_ms.',
  DPGATE_KEY_CACHE_MS:
    'How long a gateway keeps a valid API key without looking it up again: a key revoked through another gateway or the CLI is refused everywhere within this time (at once on the gateway that revoked it). `0` looks every request up.',
  DPGATE_RATE_LIMIT_BURST: 'Requests an idle API key may make at once before the per-minute rate applies.',
  DPGATE_MAX_IN_FLIGHT_PER_KEY:
    'Requests one API key may have in progress at the same time (across all gateways with the `postgres` store).',
  DPGATE_RATE_LIMIT_STORE:
    'Where the request limits are kept: `redis` (the default when DPGATE_REDIS_URL is set) or `postgres` (the default on PostgreSQL otherwise) shares them between every gateway; `memory` (the default on PGlite) keeps them per process.',
  DPGATE_REDIS_URL:
    'Redis for the shared request limits, e.g. `redis://127.0.0.1:6379`; unset, they are kept in PostgreSQL.',
  DPGATE_RATE_LIMIT_TIMEOUT_MS:
    'How long a request may wait for the shared store (`redis` or `postgres`) to lease its key more tokens or slots before it is refused with 503 `limiter_unavailable`.',
  DPGATE_IN_FLIGHT_LEASE_MS:
    'How long the tokens and in-flight slots a gateway leased from a shared store count after its last call: those of a gateway that was killed stop counting after this (a live gateway renews them while its requests run).',
  DPGATE_QUERY_CONNECTIONS:
    'Where analysts’ SQL runs on PostgreSQL: `sessions`, connections of its own set up once for the query role (one round trip a query); `transactions`, a read-only transaction on a ledger connection, for a pooler in transaction mode (PgBouncer), which keeps no session settings.',
  DPGATE_DATABASE_CONNECTIONS:
    'PostgreSQL connections one gateway opens at most, over all its pools (4 for reads, the rest shared between the ledger and analysts’ SQL); size the server’s `max_connections` as this × replicas, plus migrations and admin.',
  DPGATE_FEDERATION_KEY:
    'Path of the gateway’s federation signing key (a JWK from `dpgate node keygen`); set, `/v1/federated-queries` is served.',
  DPGATE_METRICS_TOKEN:
    'When set (16 characters or more), `/metrics` needs `Authorization: Bearer <token>`; unset, it is open.',
};
