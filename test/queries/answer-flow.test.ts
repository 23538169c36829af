/**
 * The answer flow's promises: a refused or dry-run request costs nothing; a retry or a repeat
 * returns the stored noisy answer without a new charge; an exhausted budget refuses; and whatever
 * fails, no answer ever leaves without a committed charge.
 */
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultPoint } from '../../src/queries/fault-points.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase, type TestDatabase } from '../support/databases.ts';

interface Answer {
  id: string;
  rows: unknown[][];
  charged: { community: string; rho: string | null }[];
  repeated?: boolean;
  code?: string;
  detail?: string;
  position?: number;
}

async function ledgerTotals(database: TestDatabase) {
  const budgets = await database.db
    .selectFrom('dpgate.community_budgets')
    .select(['community_id', 'epsilon_spent', 'delta_spent', 'rho_spent'])
    .orderBy('community_id')
    .execute();
  const charges = await sql<{ n: number }>`select count(*) as n from dpgate.charges`.execute(database.db);
  return { budgets, charges: charges.rows[0]!.n };
}

/** Every released answer has a committed charge for each community in its scope. */
async function expectNoAnswerWithoutCharge(database: TestDatabase) {
  const orphans = await sql<{ id: string }>`
    select a.id from dpgate.released_answers a
    where a.status = 'released' and not exists (select 1 from dpgate.charges c where c.subject_id = a.id::text)`.execute(
    database.db,
  );
  expect(orphans.rows).toEqual([]);
}

describeEachDatabase('answering a query', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  const ask = async (body: Record<string, unknown>, key?: string, headers?: Record<string, string>) => {
    const response = await t.query(body, key, headers);
    return { response, body: (await response.json()) as Answer };
  };

  it('refuses what it cannot make private, at no cost, naming the place and no data', async () => {
    const before = await ledgerTotals(database());
    const refused = await ask({ sql: 'SELECT person_id, income FROM people WHERE income > 42000' });
    expect(refused.response.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'row_level_output', position: expect.any(Number) });
    expect(Object.keys(refused.body).sort()).toEqual([
      'code',
      'detail',
      'position',
      'request_id',
      'status',
      'title',
      'type',
    ]);
    // The detail quotes nothing that is not in the analyst's own SQL.
    const numbersInDetail = refused.body.detail!.match(/\d{3,}/g) ?? [];
    for (const number of numbersInDetail)
      expect('SELECT person_id, income FROM people WHERE income > 42000').toContain(number);
    const notAllowed = await ask({ sql: 'SELECT COUNT(*) FROM pg_catalog.pg_user' });
    expect(notAllowed.body.code).toBe('system_catalog');
    expect(await ledgerTotals(database())).toEqual(before);
  });

  it('answers a dry run with cost, scope and accuracy, touching neither data nor budget', async () => {
    const before = await ledgerTotals(database());
    const { response, body } = await ask({ sql: 'SELECT AVG(age) FROM people', epsilon: 0.2, dry_run: true });
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      dry_run: true,
      scope: { communities: ['hillcrest', 'lakeside', 'riverside'] },
      // The fixture declares no table sizes: no estimate, and a warning that says so.
      timing: { estimated_seconds: null, statement_timeout_seconds: 5 },
    });
    expect((body as unknown as { timing: { warning: string } }).timing.warning).toMatch(/no declared_rows/);
    expect(await ledgerTotals(database())).toEqual(before);
  });

  it('charges every community in scope once, and the charge is in the ledger before the answer', async () => {
    const before = await ledgerTotals(database());
    const { response, body } = await ask({
      sql: "SELECT COUNT(*) FROM people WHERE community_id = 'lakeside'",
      epsilon: 0.3,
    });
    expect(response.status).toBe(200);
    expect(body.charged.map((c) => c.community)).toEqual(['lakeside']);
    const after = await ledgerTotals(database());
    expect(after.charges).toBe(before.charges + 1);
    await expectNoAnswerWithoutCharge(database());
  });

  it('returns the stored answer for a retry with the same idempotency key, charged once', async () => {
    const body = {
      sql: 'SELECT sex, COUNT(*) FROM people GROUP BY sex',
      epsilon: 0.25,
      idempotency_key: 'retry-1',
    };
    const first = await ask(body);
    const before = await ledgerTotals(database());
    const again = await ask(body);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await ledgerTotals(database())).toEqual(before);
    const viaHeader = await ask({ sql: body.sql, epsilon: 0.25 }, undefined, {
      'idempotency-key': 'retry-1',
    });
    expect(viaHeader.body).toEqual(first.body);
    const conflict = await ask({ ...body, epsilon: 0.3 });
    expect(conflict.response.status).toBe(422);
    expect(conflict.body.code).toBe('idempotency_conflict');
  });

  it('returns the stored noisy answer for a repeated query, so averaging gains nothing', async () => {
    const body = { sql: 'SELECT married, AVG(age) FROM people GROUP BY married', epsilon: 0.2 };
    const first = await ask(body);
    const before = await ledgerTotals(database());
    const repeats = await Promise.all([
      ask(body),
      ask({ ...body, sql: 'select MARRIED, avg(AGE)   from PEOPLE group by MARRIED' }),
    ]);
    for (const repeat of repeats) {
      expect(repeat.body.rows).toEqual(first.body.rows);
      expect(repeat.body).toMatchObject({ repeated: true, charged: [] });
    }
    expect(await ledgerTotals(database())).toEqual(before);
  });

  it('shows an answer to the analyst who asked and the council only', async () => {
    const { body } = await ask({ sql: 'SELECT COUNT(*) FROM survey_responses', epsilon: 0.1 });
    const get = (key: string) => t.app.request(`/v1/queries/${body.id}`, { headers: t.bearer(key) });
    expect((await get(t.keys.analyst)).status).toBe(200);
    expect((await get(t.keys.council)).status).toBe(200);
    const { createApiKey } = await import('../../src/principals/api-keys.ts');
    const other = await createApiKey(database().db, { role: 'analyst', name: 'another analyst' });
    expect((await get(other.key)).status).toBe(404);
    expect((await t.query({ sql: 'SELECT COUNT(*) FROM people' }, t.keys.riverside)).status).toBe(403);
  });

  it('refuses with budget_exhausted when a community cannot pay, charging no one', async () => {
    await database()
      .db.updateTable('dpgate.community_budgets')
      .set({ rho_spent: sql`rho_total` })
      .where('community_id', '=', 'hillcrest')
      .execute();
    const before = await ledgerTotals(database());
    const { response, body } = await ask({ sql: 'SELECT COUNT(*) FROM people WHERE age > 30', epsilon: 0.1 });
    expect(response.status).toBe(409);
    expect(body.code).toBe('budget_exhausted');
    expect(await ledgerTotals(database())).toEqual(before);
    const elsewhere = await ask({
      sql: "SELECT COUNT(*) FROM people WHERE age > 30 AND community_id IN ('riverside', 'lakeside')",
      epsilon: 0.1,
    });
    expect(elsewhere.response.status).toBe(200);
  });
});

describeEachDatabase('failures between the steps of an answer', (database) => {
  const points: FaultPoint[] = ['before-charge', 'after-charge', 'after-execute', 'after-release'];
  let failAt: FaultPoint | undefined;
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp(database(), () => ({
      testing: {
        faults: (point) => {
          if (point === failAt) throw new Error(`injected failure at ${point}`);
        },
      },
    }));
  });

  describe.each(points)('a failure %s', (point) => {
    it('never leaves an answer without its charge, and a charge stands once committed', async () => {
      failAt = point;
      const before = await ledgerTotals(database());
      const response = await t.query({
        sql: `SELECT COUNT(*) FROM people WHERE age > ${points.indexOf(point) + 10}`,
        epsilon: 0.1,
        idempotency_key: point,
      });
      expect(response.status).toBe(500);
      const body = (await response.json()) as Answer;
      expect(JSON.stringify(body)).not.toContain('rows');
      const after = await ledgerTotals(database());
      expect(after.charges).toBe(before.charges + (point === 'before-charge' ? 0 : 3));
      await expectNoAnswerWithoutCharge(database());
      failAt = undefined;
      const retry = await t.query({
        sql: `SELECT COUNT(*) FROM people WHERE age > ${points.indexOf(point) + 10}`,
        epsilon: 0.1,
        idempotency_key: point,
      });
      // Before the charge nothing happened, so the retry runs; after it, the retry reports the failed
      // answer: a definite state of that request (409 answer_failed), not a server error.
      expect(retry.status).toBe(point === 'before-charge' ? 200 : 409);
      if (point !== 'before-charge')
        expect(((await retry.json()) as { code: string }).code).toBe('answer_failed');
    });
  });
});
