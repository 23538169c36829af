/**
 * Telling apart the database errors that say "not now" (a dropped connection, a full pool, a lock
 * or statement timeout, a lost serialization race) from everything else. The former become a 503
 * with Retry-After for the one request concerned; the process and the other requests carry on.
 */

/** SQLSTATEs that mean the work may succeed if retried later. */
const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a restart, a failover
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
  '55P03', // lock_not_available: lock_timeout
  '57014', // query_canceled: statement_timeout
  '40001', // serialization_failure, after the retries ran out
  '40P01', // deadlock_detected, after the retries ran out
  '25P03', // idle_in_transaction_session_timeout
]);

/** Errors of the socket or of `pg` itself, which carry no SQLSTATE. */
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection (is )?(closed|ended)/i,
  /cannot use a pool after calling end/i,
];

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = sqlState(error);
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  if (code !== undefined && UNAVAILABLE_NODE_CODES.has(code)) return true;
  return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message));
}

/** A transaction that lost a race and may simply be run again from the start. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = sqlState(error);
  return code === '40001' || code === '40P01';
}

export function isLockTimeout(error: unknown): boolean {
  return sqlState(error) === '55P03';
}

export function isStatementTimeout(error: unknown): boolean {
  return sqlState(error) === '57014';
}

/** A unique constraint violated by an insert; `constraint` narrows it to one. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (sqlState(error) !== '23505') return false;
  if (constraint === undefined) return true;
  const named = (error as { constraint?: unknown }).constraint;
  // PGlite reports the constraint in the message only.
  return named === constraint || (error as Error).message?.includes(constraint) === true;
}
