/**
 * Where analysts' rewritten SQL runs: a QueryRunner, never a Kysely instance. Ledger functions take
 * a `Kysely<Database>` and a data query takes a QueryRunner, so neither can be handed the other's
 * connection: on PostgreSQL the runner's connections are a pool of their own set up for the query
 * role (query-pool.ts), which no ledger statement can reach; on PGlite, which has one connection,
 * each run is its own read-only transaction (read-only-transaction.ts).
 */

/** One statement from the SQL rewriter, its literals as parameters (never the analyst's text). */
export interface DataStatement {
  readonly text: string;
  readonly parameters: readonly unknown[];
}

export type TrueRow = Record<string, unknown>;

export interface QueryRunner {
  /** Runs the statement read-only, as the query role, under TimeZone UTC, within `timeoutMs`. */
  run(statement: DataStatement, timeoutMs: number): Promise<TrueRow[]>;
}
