/**
 * The query pool on PostgreSQL (db/query-pool.ts): its connections really are the query role,
 * read-only, on UTC and under the statement timeout the query asks for, whatever the connection
 * ran before; a write or a ledger read through them fails; a timeout leaves the charge standing;
 * a connection dropped mid-query fails that query only.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.ts';
import { isDatabaseUnavailable } from '../../src/db/database-errors.ts';
import { QUERY_ROLE } from '../../src/db/query-role.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { createTestApp } from '../support/app.ts';
import { openTestDatabase, TEST_DATABASE_KINDS, type TestDatabase } from '../support/databases.ts';
import { demoPolicyFiles, demoPolicySnapshot, editFile } from '../support/demo-policy.ts';

const sessionSettings = {
  text: `select current_user as role, current_setting('transaction_read_only') as read_only,
    current_setting('TimeZone') as time_zone,
    (select setting from pg_settings where name = 'statement_timeout') as timeout_ms`,
  parameters: [],
};

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('query pool on PostgreSQL', () => {
  let opened: TestDatabase | undefined;
  const database = () => opened!;
  beforeAll(async () => {
    opened = await openTestDatabase('postgres');
    await applyPolicy(opened.db, await demoPolicySnapshot());
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('runs as the query role, read-only, on UTC, under the timeout each query asks for', async () => {
    const asked = [1_000, 2_000, 1_000, 3_000, 2_000, 1_000, 3_000, 2_000];
    // Concurrent and in turn, so connections opened under one timeout serve queries asking another.
    for (let round = 0; round < 3; round++) {
      const seen = await Promise.all(asked.map((ms) => database().queries.run(sessionSettings, ms)));
      expect(seen).toEqual(
        asked.map((ms) => [{ role: QUERY_ROLE, read_only: 'on', time_zone: 'UTC', timeout_ms: String(ms) }]),
      );
    }
  });

  it('has the same settings with read-only transactions instead, for poolers in transaction mode', async () => {
    const transactions = await openDatabase({
      url: database().url,
      dataDir: 'memory://',
      queryConnections: 'transactions',
    });
    try {
      expect(await transactions.queries.run(sessionSettings, 1_500)).toEqual([
        { role: QUERY_ROLE, read_only: 'on', time_zone: 'UTC', timeout_ms: '1500' },
      ]);
    } finally {
      await transactions.close();
    }
  });

  it('refuses a write and any read of the ledger', async () => {
    const queries = database().queries;
    await expect(
      queries.run({ text: 'create table public.written (a int)', parameters: [] }, 5_000),
    ).rejects.toMatchObject({ code: '25006' }); // read_only_sql_transaction
    await expect(
      queries.run({ text: 'select count(*) from dpgate.charges', parameters: [] }, 5_000),
    ).rejects.toMatchObject({ code: '42501' }); // insufficient_privilege
    expect(await queries.run({ text: 'select 1 as one', parameters: [] }, 5_000)).toEqual([{ one: 1 }]);
  });

  it('cancels a query past its timeout and runs the next on the same pool', async () => {
    const queries = database().queries;
    await expect(queries.run({ text: 'select pg_sleep(2)', parameters: [] }, 100)).rejects.toMatchObject({
      code: '57014',
    }); // query_canceled
    expect(await queries.run(sessionSettings, 5_000)).toMatchObject([{ timeout_ms: '5000' }]);
  });

  it('fails only the query whose connection is terminated mid-flight', async () => {
    const queries = database().queries;
    const slow = queries.run({ text: 'select pg_sleep(10) as slept', parameters: [] }, 30_000);
    const outcome = slow.then(
      () => 'answered',
      (error: unknown) => error,
    );
    let terminated = 0;
    for (let tries = 0; terminated === 0 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const result = await sql<{ n: number }>`
          select count(*)::int as n from (
            select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and query = 'select pg_sleep(10) as slept'
          ) t`.execute(database().db);
      terminated = result.rows[0]!.n;
    }
    expect(terminated).toBe(1);
    const error = await outcome;
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(await queries.run({ text: 'select 1 as one', parameters: [] }, 5_000)).toEqual([{ one: 1 }]);
  });

  it('keeps the charge of an answer whose query timed out', async () => {
    const files = editFile(await demoPolicyFiles(), 'commons.yaml', (text) =>
      text.replace('statement_timeout_ms: 5000', 'statement_timeout_ms: 300'),
    );
    const short = await validatePolicyFiles(files);
    if (!short.ok) throw new Error('the edited policy should be valid');
    const t = await createTestApp(database());
    await applyPolicy(database().db, short.snapshot);
    t.policies.accept(short.snapshot);
    // A lock held on the commons keeps the data query waiting past its 300 ms.
    const holder = new pg.Client({ connectionString: database().url });
    await holder.connect();
    try {
      await holder.query('begin; lock table commons.people in access exclusive mode');
      const response = await t.query({ sql: 'SELECT COUNT(*) FROM people', epsilon: 0.1 });
      expect(response.status).toBe(500);
      const problem = (await response.json()) as { code: string; answer_id: string };
      expect(problem.code).toBe('execution_failed');
      await holder.query('rollback');
      const charge = await sql<{ n: number }>`
          select count(*)::int as n from dpgate.charges where subject_id = ${problem.answer_id}`.execute(
        database().db,
      );
      expect(charge.rows[0]!.n).toBeGreaterThan(0);
      const answer = await sql<{ status: string }>`
          select status from dpgate.released_answers where id = ${problem.answer_id}`.execute(database().db);
      expect(answer.rows[0]!.status).toBe('failed');
      // Without the lock the same query runs well within its timeout.
      const unlocked = await t.query({ sql: 'SELECT COUNT(*) FROM people', epsilon: 0.2 });
      expect(unlocked.status).toBe(200);
    } finally {
      await holder.end();
    }
  });
});
