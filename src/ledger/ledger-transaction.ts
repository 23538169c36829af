/**
 * Every transaction that writes the ledger runs here: with a lock timeout and a statement timeout
 * set for that transaction only (SET LOCAL), so a stuck row lock turns into an error for the
 * requests that need that row within seconds instead of a queue that fills the pool; and run again
 * from the start, a bounded number of times with jittered backoff, when PostgreSQL aborts it for a
 * serialization failure (40001) or a deadlock (40P01). The work must therefore be safe to repeat:
 * it may only write through the transaction it is given. A charge is one statement of its own
 * (`ledgerStatement`) whenever the rows it was planned on are current, with the same retries.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { isLockTimeout, isRetryableTransactionError } from '../db/database-errors.ts';

export const LEDGER_LOCK_TIMEOUT_MS = 2_000;
export const LEDGER_STATEMENT_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 5;
const BASE_BACKOFF_MS = 20;

export interface LedgerTransactionOptions {
  /** Also run again after a lock timeout (policy apply, which must eventually land). */
  readonly retryLockTimeouts?: boolean;
}

export function ledgerTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
  options: LedgerTransactionOptions = {},
): Promise<T> {
  return withRetries(
    () =>
      db.transaction().execute(async (trx) => {
        await sql`select set_config('lock_timeout', ${`${LEDGER_LOCK_TIMEOUT_MS}ms`}, true),
          set_config('statement_timeout', ${`${LEDGER_STATEMENT_TIMEOUT_MS}ms`}, true)`.execute(trx);
        return work(trx);
      }),
    options,
  );
}

/**
 * One ledger statement in a transaction of its own (autocommit), run again like a transaction when
 * PostgreSQL aborts it for a serialization failure or a deadlock. The statement sets its own lock
 * timeout (`dpgate.commit_charges` takes it as an argument); it has no statement timeout of its
 * own, and needs none: apart from its lock waits, which the lock timeout bounds one by one, its
 * work is a fixed number of index lookups and writes per charge.
 */
export function ledgerStatement<T>(work: () => Promise<T>): Promise<T> {
  return withRetries(work, {});
}

async function withRetries<T>(work: () => Promise<T>, options: LedgerTransactionOptions): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const retryable =
        isRetryableTransactionError(error) || (options.retryLockTimeouts === true && isLockTimeout(error));
      if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    }
  }
}

/** Full jitter (a uniform wait up to an exponentially growing cap), so racing retries spread out. */
function backoffMs(attempt: number): number {
  const cap = BASE_BACKOFF_MS * 2 ** attempt;
  const [draw] = crypto.getRandomValues(new Uint32Array(1));
  return Math.round(((draw ?? 0) / 2 ** 32) * cap);
}
