/**
 * Why dpgate refuses a query, as a typed value with a stable code. A refusal is decided from the
 * query text and the policy only, before any data is touched, so it costs nothing and its message
 * can never contain a private value: messages quote only the analyst's own identifiers and text.
 *
 * Analysis code raises `SqlRefusalError` where the fact is known; `planQuery` turns it into the
 * `{ ok: false, refusal }` result, and the HTTP edge renders it once as problem+json.
 */

export const SQL_REFUSAL_CODES = [
  'syntax_error',
  'unsupported_sql',
  'not_a_select',
  'multiple_statements',
  'unknown_table',
  'unknown_column',
  'ambiguous_column',
  'not_allowed',
  'unknown_community',
  'system_catalog',
  'row_level_output',
  'group_by_unit',
  'nested_aggregate',
  'unbounded_column',
  'private_min_max',
  'forbidden_function',
  'private_subquery',
  'invalid_join',
  'window_function',
  'grouping_sets',
  'select_distinct',
  'set_operation',
  'data_dependent_error',
  'invalid_epsilon',
  'invalid_delta',
  'epsilon_too_large',
  'delta_too_large',
  'delta_required',
  'invalid_mechanism',
  'noise_out_of_range',
  'too_many_cells',
] as const;

export type SqlRefusalCode = (typeof SQL_REFUSAL_CODES)[number];

export interface SqlRefusal {
  readonly code: SqlRefusalCode;
  /** What is wrong and how to fix it. Never a data value. */
  readonly message: string;
  /** 0-based character offset in the analyst's SQL, when the refusal points at one place. */
  readonly position?: number;
}

export class SqlRefusalError extends Error {
  readonly refusal: SqlRefusal;

  constructor(code: SqlRefusalCode, message: string, position?: number) {
    super(message);
    this.name = 'SqlRefusalError';
    this.refusal = position === undefined || position < 0 ? { code, message } : { code, message, position };
  }
}

/** Raise a refusal; typed `never` so callers can use it in expressions. */
export function refuse(code: SqlRefusalCode, message: string, position?: number): never {
  throw new SqlRefusalError(code, message, position);
}
