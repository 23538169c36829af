/**
 * Parsing with the real PostgreSQL parser (libpg_query compiled to WASM, synchronous API). Whatever
 * a naive tokenizer would trip on (nested comments, dollar quoting, U&"…" escapes, E'…' strings, a
 * second statement after a comment) is resolved here exactly as the server would resolve it.
 */
import type { Node, SelectStmt } from 'libpg-query';
import { loadParser, parseSync, SqlSyntaxError } from './pg-parser.ts';
import { refuse } from './refusal.ts';

// The WASM module must be instantiated once before the synchronous API can run.
await loadParser();

/** The longest query text dpgate parses; longer texts are refused before parsing. */
export const MAX_SQL_LENGTH = 100_000;

/** Parses `sql` and returns its only statement, which must be a SELECT. Raises a refusal otherwise. */
export function parseSingleSelect(sql: string): SelectStmt {
  if (sql.length > MAX_SQL_LENGTH)
    refuse('unsupported_sql', `the query is longer than ${MAX_SQL_LENGTH} characters`);
  const statements = parseStatements(sql);
  if (statements.length === 0) refuse('syntax_error', 'the query is empty');
  if (statements.length > 1) {
    refuse(
      'multiple_statements',
      `send exactly one SELECT statement; found ${statements.length} statements`,
      statements[1]!.location,
    );
  }
  const { node, location } = statements[0]!;
  if (!('SelectStmt' in node)) {
    const kind = Object.keys(node)[0] ?? 'statement';
    refuse(
      'not_a_select',
      `only SELECT queries are accepted, not ${kind.replace(/Stmt$/, '').toUpperCase()}`,
      location,
    );
  }
  refuseAnythingButReading(node.SelectStmt, location);
  return node.SelectStmt;
}

/**
 * A SELECT can still carry writes and locks: a data-modifying CTE (`WITH d AS (DELETE …) SELECT …`),
 * `SELECT … INTO`, `FOR UPDATE`. The whole tree is searched, so nothing but a pure read reaches the
 * database, whatever the later analysis or the read-only transaction would have caught.
 */
function refuseAnythingButReading(tree: unknown, statementLocation: number): void {
  const pending: unknown[] = [tree];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      pending.push(...node);
      continue;
    }
    for (const [key, value] of Object.entries(node)) {
      if (key.endsWith('Stmt') && key !== 'SelectStmt') {
        refuse(
          'not_a_select',
          `only pure SELECT queries are accepted; this one contains ${key.replace(/Stmt$/, '').toUpperCase()}`,
          locationIn(value) ?? statementLocation,
        );
      }
      if (key === 'intoClause' && value)
        refuse('not_a_select', 'SELECT … INTO writes a table; only pure SELECT queries are accepted');
      if (key === 'lockingClause' && value)
        refuse('not_a_select', 'FOR UPDATE / FOR SHARE lock rows; only pure SELECT queries are accepted');
      pending.push(value);
    }
  }
}

function locationIn(node: unknown): number | undefined {
  const relation = (node as { relation?: { location?: unknown } } | null)?.relation;
  return typeof relation?.location === 'number' ? relation.location : undefined;
}

/** Every statement with the offset it starts at. Raises `syntax_error` with the parser's position. */
export function parseStatements(sql: string): { node: Node; location: number }[] {
  if (sql.trim() === '') return [];
  try {
    const result = parseSync(sql);
    return (result.stmts ?? []).flatMap((raw) =>
      raw.stmt ? [{ node: raw.stmt, location: raw.stmt_location ?? 0 }] : [],
    );
  } catch (error) {
    if (error instanceof SqlSyntaxError)
      refuse('syntax_error', error.message, Math.max(0, error.cursorPosition - 1));
    throw error;
  }
}
