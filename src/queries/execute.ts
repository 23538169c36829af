/**
 * Running rewritten SQL against the commons: one READ ONLY, REPEATABLE READ transaction (one
 * snapshot for the whole statement; no writes, sequences or DDL) with a statement timeout, as the
 * least-privilege query role (db/query-role.ts), under TimeZone UTC (so date_trunc, EXTRACT, ::date
 * and comparisons on a timestamptz never depend on a session's or server's setting: public ranges
 * of days are UTC days). The SQL comes from the rewriter, never from the analyst's text, and its
 * literals arrive as parameters.
 *
 * On PostgreSQL the BEGIN and the settings go in one round trip: a text without parameters is sent
 * as one simple Query, which may hold several statements. PGlite takes one statement per call, so
 * there they are two.
 */
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { QUERY_ROLE } from '../db/query-role.ts';
import type { RewrittenSql } from '../sql/index.ts';

export type TrueRow = Record<string, unknown>;

export interface ReadOnlyOptions {
  /** The database takes several statements in one parameterless query (PostgreSQL, not PGlite). */
  readonly multiStatement?: boolean;
}

export async function runReadOnly(
  db: Kysely<Database>,
  query: RewrittenSql,
  timeoutMs: number,
  { multiStatement = false }: ReadOnlyOptions = {},
): Promise<TrueRow[]> {
  if (multiStatement) return runInOneBegin(db, query, timeoutMs);
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      // SET LOCAL of all three in one statement: set_config(…, true) is SET LOCAL.
      await sql`select set_config('statement_timeout', ${String(timeoutMs)}, true),
        set_config('role', ${QUERY_ROLE}, true), set_config('TimeZone', 'UTC', true)`.execute(trx);
      const result = await trx.executeQuery<TrueRow>(CompiledQuery.raw(query.text, boundParameters(query)));
      return result.rows;
    });
}

async function runInOneBegin(db: Kysely<Database>, query: RewrittenSql, timeoutMs: number) {
  if (!Number.isSafeInteger(timeoutMs)) throw new Error('a statement timeout is a whole number of ms');
  return db.connection().execute(async (connection) => {
    await sql
      .raw(`begin isolation level repeatable read read only;
        select set_config('statement_timeout', '${timeoutMs}', true), set_config('role', '${QUERY_ROLE}', true),
          set_config('TimeZone', 'UTC', true)`)
      .execute(connection);
    try {
      const result = await connection.executeQuery<TrueRow>(
        CompiledQuery.raw(query.text, boundParameters(query)),
      );
      await sql.raw('commit').execute(connection);
      return result.rows;
    } catch (error) {
      // As Kysely's own transactions do: a rollback that fails leaves a broken connection to the pool's checks.
      await sql
        .raw('rollback')
        .execute(connection)
        .catch(() => {});
      throw error;
    }
  });
}

/** The query's parameters, with a fresh selection key from the CSPRNG where the rewrite asks for one. */
function boundParameters(query: RewrittenSql): unknown[] {
  const parameters: unknown[] = [...query.parameters];
  if (query.selectionKeyParameter !== undefined) {
    parameters[query.selectionKeyParameter - 1] = String(crypto.getRandomValues(new BigInt64Array(1))[0]);
  }
  return parameters;
}
