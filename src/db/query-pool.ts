/**
 * Data queries on PostgreSQL in one round trip: a pool of connections of their own, separate from
 * the ledger's, each set up once, when it opens, by startup parameters: the query role
 * (query-role.ts) as `role`, `default_transaction_read_only`, TimeZone UTC (public ranges of days
 * are UTC days) and the policy's statement timeout. A data query is then one autocommit statement.
 *
 * One statement needs no REPEATABLE READ transaction to see one snapshot: PostgreSQL takes a
 * statement's snapshot when it starts and the whole statement sees only what was committed before
 * then ("a SELECT query sees only data committed before the query began", PostgreSQL manual §13.2.1,
 * Read Committed Isolation Level). The rewriter's SQL is one SELECT that calls no function that
 * runs queries of its own, so its CTEs and subqueries all read that snapshot.
 *
 * The statement timeout follows the policy in force: a connection opens with the one asked for
 * last, and one whose setting differs from the one a query asks for sets it before running it, so
 * no query runs under a stale timeout. Only this module holds the pool, and it runs nothing but the
 * statements it is given with these settings: no ledger statement can reach these connections.
 * The settings last as long as the session, so nothing a query runs may change them: the
 * rewriter's function allow-list (sql/functions.ts) has no `set_config`, and a SELECT cannot SET.
 * Behind a pooler that hands out server connections per transaction (PgBouncer in transaction
 * mode, Hyperdrive) session settings do not hold: use read-only-transaction.ts there.
 */
import pg from 'pg';
import { QUERY_ROLE } from './query-role.ts';
import type { QueryRunner, TrueRow } from './query-runner.ts';
import { typeParsers } from './type-parsers.ts';

/**
 * How long a data query waits for a free connection or a new one before it fails. Its charge has
 * already committed, so under a burst it waits for a connection rather than fail and waste it; the
 * wait is still bounded, so a database that cannot be reached fails the request, not the process.
 */
const CONNECT_TIMEOUT_MS = 30_000;
/** Beyond the statement timeout, how long to wait for the server before the connection is dropped. */
const READ_MARGIN_MS = 5_000;

export interface QueryPool extends QueryRunner {
  close(): Promise<void>;
}

export function openQueryPool(url: string, max: number): QueryPool {
  /** The timeout of each open connection, as set at startup or since. */
  const timeouts = new WeakMap<pg.Client, number>();
  /** The timeout the last query asked for: a new connection starts with it. */
  let latestTimeoutMs: number | undefined;

  class QueryClient extends pg.Client {
    constructor(config: pg.ClientConfig = {}) {
      const timeoutMs = latestTimeoutMs;
      super({ ...config, options: startupOptions(timeoutMs) });
      if (timeoutMs !== undefined) timeouts.set(this, timeoutMs);
    }
  }

  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    Client: QueryClient,
    types: { getTypeParser: (oid, format) => typeParsers[oid] ?? pg.types.getTypeParser(oid, format) },
  });
  // A dropped connection emits 'error' on the pool while idle and on the client while checked
  // out; unhandled, either ends the process. The query in flight rejects on its own.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });

  return {
    async run(statement, timeoutMs) {
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
        throw new Error('a statement timeout is a positive whole number of ms');
      latestTimeoutMs = timeoutMs;
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        if (timeouts.get(client) !== timeoutMs) {
          await client.query(`set statement_timeout = ${timeoutMs}`);
          timeouts.set(client, timeoutMs);
        }
        // `pg` reads `query_timeout` from a query's config; its types leave it out.
        const query: pg.QueryConfig & { query_timeout: number } = {
          text: statement.text,
          values: [...statement.parameters],
          query_timeout: timeoutMs + READ_MARGIN_MS,
        };
        const result = await client.query<TrueRow>(query);
        return result.rows;
      } catch (error) {
        if (!leavesConnectionUsable(error))
          broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        // A connection whose query failed on the client's side (lost, timed out) is not reused.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** Startup parameters: settings the session has from its first statement on. */
function startupOptions(timeoutMs: number | undefined): string {
  const settings = [`role=${QUERY_ROLE}`, 'default_transaction_read_only=on', 'TimeZone=UTC'];
  if (timeoutMs !== undefined) settings.push(`statement_timeout=${timeoutMs}`);
  return settings.map((setting) => `-c ${setting}`).join(' ');
}

/** An error the server answered with, on a connection that stays open (not a shutdown or a lost link). */
function leavesConnectionUsable(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError) || error.code === undefined) return false;
  return !error.code.startsWith('08') && !error.code.startsWith('57P');
}
