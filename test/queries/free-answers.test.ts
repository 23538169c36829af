/**
 * What costs nothing: a query whose released rows are public facts alone (its GROUP BY keys have
 * policy domains and it releases no aggregate) is answered without touching the ledger, no zero-ε
 * charge rows; and requested post-processing changes the answer, never the charge.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase('a query over public keys alone', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp(database());
  });
  const ledgerRows = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from dpgate.charges`.execute(database().db)).rows[0]!
      .n;

  it('returns the domain, charges nothing and writes no ledger row', async () => {
    const before = await ledgerRows();
    const response = await t.query({ sql: 'SELECT sex FROM people GROUP BY sex ORDER BY sex' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      rows: unknown[][];
      charged: unknown[];
      cost: { epsilon: number };
    };
    expect(body.rows).toEqual([[0], [1]]);
    expect(body.charged).toEqual([]);
    expect(body.cost.epsilon).toBe(0);
    expect(await ledgerRows()).toBe(before);
  });

  it('still charges as soon as one aggregate is released', async () => {
    const before = await ledgerRows();
    const response = await t.query({ sql: 'SELECT sex, COUNT(*) FROM people GROUP BY sex', epsilon: 0.1 });
    expect(response.status).toBe(200);
    expect(await ledgerRows()).toBeGreaterThan(before);
  });

  it('applies requested post-processing, marks it, and charges what the plain query costs', async () => {
    const sql = 'SELECT sex, COUNT(*) FROM people GROUP BY sex';
    const plainCost = (await (await t.query({ sql, epsilon: 0.1, dry_run: true })).json()) as {
      cost: unknown;
    };
    const response = await t.query({ sql, epsilon: 0.1, post_process: ['non_negative', 'total'] });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      rows: unknown[][];
      cost: unknown;
      post_processing: { applied: string[]; totalRow: number };
    };
    expect(body.post_processing).toEqual({ applied: ['non_negative', 'total'], totalRow: 2 });
    expect(body.rows).toHaveLength(3);
    expect(body.rows[2]![0]).toBeNull();
    expect(body.cost).toEqual(plainCost.cost);
    const refused = await t.query({ sql, post_process: ['smooth'] });
    expect(refused.status).toBe(400);
  });
});

describeEachDatabase('an empty release', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp(database());
  });

  it('names the partition selection the planner chose in the cost', async () => {
    const selectionOf = async (body: Record<string, unknown>) =>
      (
        (await (await t.query({ ...body, dry_run: true })).json()) as {
          cost: { partition_selection?: unknown };
        }
      ).cost.partition_selection;
    // One group per person (people): the optimal keep function; up to k = 2 (survey_responses)
    // under gaussian: the weighted Gaussian, with a half-kept size for persons in 1 and in 2 groups.
    expect(await selectionOf({ sql: 'SELECT age, COUNT(*) FROM people GROUP BY age', epsilon: 1 })).toEqual({
      method: 'optimal_keep_function',
      half_kept_at_persons: expect.any(Number),
    });
    const weighted = (await selectionOf({
      sql: 'SELECT age, COUNT(*) FROM survey_responses GROUP BY age',
      epsilon: 1,
      delta: 1e-7,
      mechanism: 'gaussian',
    })) as { method: string; half_kept_at_persons_by_groups_per_person: number[] };
    expect(weighted.method).toBe('weighted_gaussian');
    expect(weighted.half_kept_at_persons_by_groups_per_person).toHaveLength(2);
    expect(
      await selectionOf({ sql: 'SELECT sex, COUNT(*) FROM people GROUP BY sex', epsilon: 1 }),
    ).toBeUndefined();
  });

  it('says why no group was released, and says nothing when rows are', async () => {
    // Ages have no public domain: each age group must pass partition selection, and at ε = 0.01 the
    // threshold lies far above the few dozen persons of any one age in the demo commons.
    const empty = await t.query({ sql: 'SELECT age, COUNT(*) FROM people GROUP BY age', epsilon: 0.01 });
    expect(empty.status).toBe(200);
    const body = (await empty.json()) as { rows: unknown[][]; empty_release?: string; charged: unknown[] };
    expect(body.rows).toEqual([]);
    expect(body.empty_release).toMatch(/partition selection/);
    expect(body.charged.length).toBeGreaterThan(0);

    const full = await t.query({ sql: 'SELECT sex, COUNT(*) FROM people GROUP BY sex', epsilon: 0.5 });
    expect(((await full.json()) as { empty_release?: string }).empty_release).toBeUndefined();
  });
});
