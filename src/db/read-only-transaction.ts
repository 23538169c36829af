/**
 * Data queries on a connection of dpgate's own pool (PGlite's only connection, or where sessions
 * cannot be set up for the query role: behind a pooler that hands out server connections per
 * transaction, as on Workers): one READ ONLY, REPEATABLE READ transaction per statement, whose
 * SET LOCALs make it the least-privilege query role (query-role.ts) with a statement timeout under
 * TimeZone UTC (so date_trunc, EXTRACT, ::date and comparisons on a timestamptz never depend on a
 * session's or server's setting: public ranges of days are UTC days). The settings end with the
 * transaction, so the connection goes back to the ledger as it came.
 *
 * On PostgreSQL the BEGIN and the settings go in one round trip: a text without parameters is sent
 * as one simple Query, which may hold several statements. PGlite takes one statement per call, so
 * there they are two.
 */
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Database } from './database.ts';
import { QUERY_ROLE } from './query-role.ts';
import type { DataStatement, QueryRunner, TrueRow } from './query-runner.ts';

export interface ReadOnlyTransactionOptions {
  /** The database takes several statements in one parameterless query (PostgreSQL, not PGlite). */
  readonly multiStatement?: boolean;
}

export function readOnlyTransactions(
  db: Kysely<Database>,
  { multiStatement = false }: ReadOnlyTransactionOptions = {},
): QueryRunner {
  return {
    run: (statement, timeoutMs) =>
      multiStatement ? runInOneBegin(db, statement, timeoutMs) : runInTransaction(db, statement, timeoutMs),
  };
}

function runInTransaction(db: Kysely<Database>, statement: DataStatement, timeoutMs: number) {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      // SET LOCAL of all three in one statement: set_config(…, true) is SET LOCAL.
      await sql`select set_config('statement_timeout', ${String(timeoutMs)}, true),
        set_config('role', ${QUERY_ROLE}, true), set_config('TimeZone', 'UTC', true)`.execute(trx);
      const result = await trx.executeQuery<TrueRow>(
        CompiledQuery.raw(statement.text, [...statement.parameters]),
      );
      return result.rows;
    });
}

async function runInOneBegin(db: Kysely<Database>, statement: DataStatement, timeoutMs: number) {
  if (!Number.isSafeInteger(timeoutMs)) throw new Error('a statement timeout is a whole number of ms');
  return db.connection().execute(async (connection) => {
    await sql
      .raw(`begin isolation level repeatable read read only;
        select set_config('statement_timeout', '${timeoutMs}', true), set_config('role', '${QUERY_ROLE}', true),
          set_config('TimeZone', 'UTC', true)`)
      .execute(connection);
    try {
      const result = await connection.executeQuery<TrueRow>(
        CompiledQuery.raw(statement.text, [...statement.parameters]),
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
