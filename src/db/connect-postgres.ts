/** dpgate's database on PostgreSQL through `pg`. No Node-only imports: Workers use this too. */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseHandle } from './connect.ts';
import type { Database } from './database.ts';
import { openQueryPool } from './query-pool.ts';
import { readOnlyTransactions } from './read-only-transaction.ts';
import { typeParsers } from './type-parsers.ts';

/** Connections of the pool for reads (/health, ledger views, keys) that never queue behind charges. */
const READ_POOL_SIZE = 4;
/** How long a request waits for a free connection or a new one before it is told to retry. */
const CONNECT_TIMEOUT_MS = 5_000;

export interface PostgresOptions {
  /**
   * Where data queries run: `sessions`, a pool of connections set up for the query role
   * (query-pool.ts, one round trip a query); `transactions`, a read-only transaction on a ledger
   * connection (read-only-transaction.ts), for poolers that do not keep session settings.
   */
  readonly queryConnections?: 'sessions' | 'transactions';
}

/**
 * `max` is the most connections the handle opens, over its pools: the read pool's (at most a
 * quarter), and the rest split evenly between the ledger and the data queries when they have a
 * pool of their own. Charges and stored answers are written in groups (group-commit.ts), so the
 * ledger needs few connections however many requests are under way.
 */
export function openPostgres(
  url: string,
  max: number,
  { queryConnections = 'sessions' }: PostgresOptions = {},
): DatabaseHandle {
  const readSize = Math.max(1, Math.min(READ_POOL_SIZE, Math.floor(max / 4)));
  const rest = Math.max(2, max - readSize);
  const ledgerSize = queryConnections === 'sessions' ? Math.ceil(rest / 2) : rest;
  const pool = openPool(url, ledgerSize);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const readDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPool(url, readSize) }) });
  const queryPool = queryConnections === 'sessions' ? openQueryPool(url, rest - ledgerSize) : undefined;
  return {
    db,
    readDb,
    queries: queryPool ?? readOnlyTransactions(db, { multiStatement: true }),
    driver: { kind: 'postgres', pool, url },
    close: async () => {
      await Promise.all([db.destroy(), readDb.destroy(), queryPool?.close()]);
    },
  };
}

function openPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: { getTypeParser: (oid, format) => typeParsers[oid] ?? pg.types.getTypeParser(oid, format) },
  });
  // A server that drops a connection (failover, proxy restart, pg_terminate_backend) emits 'error'
  // on its client: on the pool while the client is idle, on the client itself while a request has
  // it checked out. Unhandled, either kills the process. The query in flight rejects on its own
  // (and the request answers 503); the pool discards the broken client when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}
