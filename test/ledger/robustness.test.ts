/**
 * The ledger's behaviour under the events a production database produces: a policy apply of the
 * version in force writes nothing; a gateway whose policy another gateway superseded adopts the
 * version in force before charging; a connection terminated inside a transaction fails that
 * transaction only (PostgreSQL).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/database-errors.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { demoPolicyFiles, demoPolicySnapshot, editFile } from '../support/demo-policy.ts';

async function raisedBudgets() {
  const files = editFile(await demoPolicyFiles(), 'budgets.yaml', (text) =>
    text.replace('riverside: { epsilon: 10', 'riverside: { epsilon: 12'),
  );
  const validation = await validatePolicyFiles(files);
  if (!validation.ok) throw new Error('the edited policy should be valid');
  return validation.snapshot;
}

describeEachDatabase('ledger robustness', (database, kind) => {
  it('applies the version in force as a no-op: no write, no row lock', async () => {
    const db = database().db;
    const snapshot = await demoPolicySnapshot();
    await applyPolicy(db, snapshot);
    const before = await db
      .selectFrom('dpgate.community_budgets')
      .select(['community_id', 'updated_at'])
      .execute();
    expect(await applyPolicy(db, snapshot)).toBe(false);
    const after = await db
      .selectFrom('dpgate.community_budgets')
      .select(['community_id', 'updated_at'])
      .execute();
    expect(after).toEqual(before);
  });

  it('a gateway serving a superseded policy adopts the version in force before it charges', async () => {
    const t = await createTestApp(database());
    const newer = await raisedBudgets();
    // Another gateway applies a newer policy; this app's store still holds the old one.
    await applyPolicy(database().db, newer);
    expect(t.policies.current.version).not.toBe(newer.version);
    const response = await t.query({ sql: 'SELECT COUNT(*) FROM people WHERE age > 61', epsilon: 0.1 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { policy_version: string; id: string };
    expect(body.policy_version).toBe(newer.version);
    expect(t.policies.current.version).toBe(newer.version);
    const charged = await database()
      .db.selectFrom('dpgate.charges')
      .select('policy_version')
      .where('subject_id', '=', body.id)
      .execute();
    expect(charged.map((row) => row.policy_version)).toEqual(charged.map(() => newer.version));
    await applyPolicy(database().db, await demoPolicySnapshot());
  });

  it.runIf(kind === 'postgres')(
    'a connection terminated inside a transaction fails that transaction only',
    async () => {
      const db = database().db;
      const admin = new pg.Client({ connectionString: database().url });
      await admin.connect();
      try {
        const failure = await db
          .transaction()
          .execute(async (trx) => {
            const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
            await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
            await new Promise((resolve) => setTimeout(resolve, 100));
            await sql`select 1`.execute(trx);
          })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(isDatabaseUnavailable(failure)).toBe(true);
        // The pool replaced the connection; the process is still here to check it.
        const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
        expect(rows).toEqual([{ one: 1 }]);
      } finally {
        await admin.end();
      }
    },
  );
});
