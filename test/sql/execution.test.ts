/**
 * The rewrite against the real demo commons, on PGlite and (with DATABASE_URL) PostgreSQL: every
 * accepted corpus query runs; the pre-noise answer equals plain SQL over bounded data; one person
 * cannot move a count by more than the bound; released answers centre on the truth and the
 * reported 95% intervals cover about 95%.
 */
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { readCommonsCatalog } from '../../src/db/commons-catalog.ts';
import type { Policy } from '../../src/policy/schema.ts';
import {
  type CatalogFacts,
  type PrivateQueryPlan,
  planQuery,
  type QueryPlan,
  type QueryRequest,
  release,
} from '../../src/sql/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { keepResponsesPerPerson, plain, type Row, run } from '../support/run-sql.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { ACCEPTED } from './corpus.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { generatedQuery } from './generated-queries.ts';
import { privatePlanOf } from './private-plan.ts';

let policy: Policy;
beforeAll(async () => {
  policy = await loadDemoPolicy();
});

function privatePlan(
  sql: string,
  request: QueryRequest = { epsilon: 1, delta: 1e-7 },
  catalog?: CatalogFacts,
): PrivateQueryPlan {
  return privatePlanOf({ sql, policy, role: 'analyst', request, catalog });
}

/** Column `column` of the row whose key k0 equals `key`, as a number. */
function cell(rows: readonly Row[], key: unknown, column: string): number {
  const row = rows.find((r) => r.k0 === key);
  if (!row) throw new Error(`no group ${String(key)}`);
  return Number(row[column]);
}

describeEachDatabase('the rewrite over the demo commons', (database) => {
  it('runs every accepted corpus query', async () => {
    for (const c of ACCEPTED) {
      const result = planQuery({ sql: c.sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
      if (!result.ok) throw new Error(`${c.sql}: ${JSON.stringify(result.refusal)}`);
      const rows = await run(database(), result.plan.sql).catch((error: Error) => {
        throw new Error(`${c.sql}: ${error.message}`);
      });
      const answer = release(result.plan, rows, { random: seededRandom(1) });
      expect(answer.rows.length, c.sql).toBeGreaterThanOrEqual(0);
    }
  });

  it('runs generated queries (property: the rewrite is valid SQL on this database)', async () => {
    await fc.assert(
      fc.asyncProperty(generatedQuery, async (generated) => {
        const plan = privatePlan(generated.sql);
        const rows = await run(database(), plan.sql);
        expect(release(plan, rows, { random: seededRandom(9) }).columns.length).toBeGreaterThan(0);
      }),
      { numRuns: 80 },
    );
  });

  it('computes the same true values as plain SQL when bounding drops nothing (one row per person)', async () => {
    const plan = privatePlan(
      'SELECT sex, COUNT(*), SUM(income), AVG(age), SUM(age * 2 - 10) FROM people GROUP BY sex',
    );
    const rows = await run(database(), plan.sql);
    const expected = await plain(
      database(),
      `SELECT sex, count(*) AS n, sum(round(least(greatest(income, 0), 500000)::numeric)) AS income,
              sum(age) AS age, count(age) AS ages, sum(age * 2 - 10) AS expression
       FROM commons.people GROUP BY sex`,
    );
    const [count, income, age, ages, expression] = ['m0', 'm1', 'm2', 'm3', 'm4'];
    for (const row of expected) {
      expect(cell(rows, row.sex, count!)).toBe(Number(row.n));
      expect(cell(rows, row.sex, income!)).toBe(Number(row.income));
      expect(cell(rows, row.sex, age!)).toBe(Number(row.age));
      expect(cell(rows, row.sex, ages!)).toBe(Number(row.ages));
      expect(cell(rows, row.sex, expression!)).toBe(Number(row.expression));
    }
  });

  it('counts distinct values as plain SQL does when no cap binds, with and without the catalog proof', async () => {
    const catalog = await readCommonsCatalog(database().db, policy);
    const facts = { uniqueColumns: catalog.uniqueColumns ?? [] };
    const query =
      'SELECT sex, COUNT(DISTINCT educ), COUNT(DISTINCT age / 10), COUNT(DISTINCT race) FILTER (WHERE married = 1) FROM people GROUP BY sex';
    const expected = await plain(
      database(),
      `SELECT sex, count(DISTINCT educ) AS educ, count(DISTINCT age / 10) AS decades,
              count(DISTINCT race) FILTER (WHERE married = 1) AS races
       FROM commons.people GROUP BY sex`,
    );
    for (const catalogFacts of [undefined, facts]) {
      const plan = privatePlan(query, undefined, catalogFacts);
      expect(plan.measurements.map((m) => m.kind)).toEqual([
        'distinct_values',
        'distinct_values',
        'distinct_values',
      ]);
      const rows = await run(database(), plan.sql);
      for (const row of expected) {
        expect(cell(rows, row.sex, 'm0')).toBe(Number(row.educ));
        expect(cell(rows, row.sex, 'm1')).toBe(Number(row.decades));
        expect(cell(rows, row.sex, 'm2')).toBe(Number(row.races));
      }
    }
    const [total] = await run(database(), privatePlan('SELECT COUNT(DISTINCT community_id) FROM people').sql);
    const [truth] = await plain(database(), 'SELECT count(DISTINCT community_id) AS n FROM commons.people');
    expect(Number(total!.m0)).toBe(Number(truth!.n));
  });

  it('releases every value of a public domain, empty groups as zero before noise', async () => {
    const plan = privatePlan('SELECT educ, COUNT(*) FROM survey_responses WHERE income > 1e9 GROUP BY educ');
    const rows = await run(database(), plan.sql);
    expect(rows.map((r) => r.k0).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    for (const row of rows) expect(Number(row.m0)).toBe(0);
    const answer = release(plan, rows, { random: seededRandom(2) });
    expect(answer.rows).toHaveLength(16);
  });

  it.each([
    [
      'educ',
      'SELECT educ, COUNT(*), SUM(age) FROM people WHERE educ IN (1, 2, 40) GROUP BY educ',
      'educ IN (1, 2, 40)',
    ],
    [
      'educ',
      'SELECT educ, COUNT(*), SUM(age) FROM people WHERE educ > 14 AND age < 60 GROUP BY educ',
      'educ > 14 AND age < 60',
    ],
    [
      'educ',
      'SELECT educ, COUNT(*), SUM(age) FROM people WHERE educ = 3 OR educ = 9 GROUP BY educ',
      'educ = 3 OR educ = 9',
    ],
    ['sex', 'SELECT sex, COUNT(*), SUM(age) FROM people WHERE sex = 1 GROUP BY sex', 'sex = 1'],
    [
      'region',
      "SELECT region, COUNT(*), SUM(age) FROM people JOIN communities USING (community_id) WHERE region IN ('north', 'east') GROUP BY region",
      "region IN ('north', 'east')",
    ],
    [
      'community_id',
      "SELECT p.community_id, COUNT(*), SUM(p.age) FROM people p JOIN communities c ON p.community_id = c.community_id WHERE c.community_id = 'lakeside' GROUP BY 1",
      "community_id = 'lakeside'",
    ],
  ])(
    'narrows the public domain of %s by WHERE and computes plain SQL before noise: %s',
    async (key, sql, where) => {
      const plan = privatePlan(sql);
      const rows = await run(database(), plan.sql);
      const from =
        key === 'region' ? 'commons.people JOIN commons.communities USING (community_id)' : 'commons.people';
      const expected = await plain(
        database(),
        `SELECT ${key} AS key, count(*) AS n, sum(age) AS age FROM ${from} WHERE ${where} GROUP BY ${key}`,
      );
      // Exactly the groups the WHERE allows (listed, whether or not the data has them) …
      if (plan.grouping.kind !== 'public') throw new Error('expected public-domain groups');
      const domain = plan.grouping.keys[0]!.domain;
      const released = rows.map((r) => r.k0);
      expect(released.length).toBe(domain.kind === 'range' ? domain.to - domain.from + 1 : released.length);
      if (domain.kind === 'values') expect([...released].sort()).toEqual([...domain.values].sort());
      // … every group the plain query has is among them, with the same values; the others are empty.
      for (const row of expected) {
        expect(cell(rows, row.key, 'm0')).toBe(Number(row.n));
        expect(cell(rows, row.key, 'm1')).toBe(Number(row.age));
      }
      const present = new Set(expected.map((r) => r.key));
      for (const row of rows) if (!present.has(row.k0)) expect(Number(row.m0)).toBe(0);
      expect(release(plan, rows, { random: seededRandom(11) }).rows).toHaveLength(rows.length);
    },
  );

  it('narrows to one community and counts only its people', async () => {
    const plan = privatePlan("SELECT COUNT(*) FROM people WHERE community_id = 'riverside'");
    expect(plan.scope).toEqual({ communities: ['riverside'], narrowed: true });
    const [row] = await run(database(), plan.sql);
    const [expected] = await plain(
      database(),
      "SELECT count(*) AS n FROM commons.people WHERE community_id = 'riverside'",
    );
    expect(Number(row!.m0)).toBe(Number(expected!.n));
  });

  it('never releases a group of one or two persons under partition selection', async () => {
    const plan = privatePlan('SELECT age, COUNT(*) FROM people GROUP BY age');
    if (plan.grouping.kind !== 'selected') throw new Error('expected thresholding');
    const rows = await run(database(), plan.sql);
    const rare = new Set(rows.filter((r) => Number(r.units) <= 2).map((r) => r.k0));
    expect(rare.size).toBeGreaterThan(0);
    const random = seededRandom(3);
    for (let i = 0; i < 200; i++) {
      const answer = release(plan, rows, { random });
      for (const [age] of answer.rows) expect(rare.has(age)).toBe(false);
    }
  });

  it.each(['laplace', 'gaussian'] as const)(
    'centres on the true values, and the 95 percent intervals cover about 95 percent (%s)',
    async (mechanism) => {
      const plan = privatePlan('SELECT COUNT(*), SUM(age), AVG(age) FROM people', {
        epsilon: 0.5,
        delta: 1e-7,
        mechanism,
      });
      const rows = await run(database(), plan.sql);
      const [truth] = await plain(
        database(),
        'SELECT count(*) AS n, sum(age) AS total, avg(age) AS age FROM commons.people',
      );
      const truths = [Number(truth!.n), Number(truth!.total), Number(truth!.age)];
      const random = seededRandom(mechanism === 'laplace' ? 4 : 5);
      const repetitions = 2000;
      const sums = [0, 0, 0];
      const covered = [0, 0, 0];
      for (let i = 0; i < repetitions; i++) {
        const answer = release(plan, rows, { random });
        answer.rows[0]!.forEach((value, column) => {
          sums[column]! += Number(value);
          const accuracy = answer.accuracy[0]![column]!;
          const [low, high] =
            accuracy.kind === 'noise'
              ? [Number(value) - accuracy.halfWidth, Number(value) + accuracy.halfWidth]
              : accuracy.kind === 'interval'
                ? [accuracy.lower, accuracy.upper]
                : [Number.NaN, Number.NaN];
          if (truths[column]! >= low && truths[column]! <= high) covered[column]!++;
        });
      }
      truths.forEach((truthValue, column) => {
        const mean = sums[column]! / repetitions;
        const halfWidth = (answerHalfWidth(plan, rows, column) ?? 0) / Math.sqrt(repetitions);
        expect(Math.abs(mean - truthValue), `column ${column}`).toBeLessThanOrEqual(
          Math.max(halfWidth, 1e-9) * 2,
        );
        expect(covered[column]! / repetitions, `column ${column}`).toBeGreaterThanOrEqual(0.93);
      });
      // Additive noise intervals are tight: coverage near 95% (discrete noise makes it at least that).
      expect(covered[0]! / repetitions).toBeLessThanOrEqual(0.995);
    },
  );

  it('centres every released COUNT and SUM of the corpus on its true value, with ≈95% coverage', async () => {
    const repetitions = 200;
    const random = seededRandom(10);
    let cellsChecked = 0;
    for (const c of ACCEPTED) {
      if ('free' in c) continue;
      const plan = privatePlan(c.sql);
      const postProcessed = plan.having || plan.orderBy.length > 0 || plan.limit !== undefined || plan.offset;
      if (plan.grouping.kind === 'selected' || postProcessed) continue;
      const rows = sortedByKeys(await run(database(), plan.sql));
      const targets = plan.columns.flatMap((column, index) => {
        if (column.expr.kind !== 'aggregate') return [];
        const aggregate = plan.aggregates[column.expr.index]!;
        if (aggregate.kind !== 'count' && aggregate.kind !== 'sum') return [];
        const measurement = plan.measurements[aggregate.kind === 'count' ? aggregate.count : aggregate.sum]!;
        return [
          {
            index,
            column: measurement.column,
            step: measurement.kind === 'sum' ? measurement.granularity : 1,
          },
        ];
      });
      for (const [r, row] of rows.entries()) {
        for (const target of targets) {
          const truth = Number(row[target.column]) * target.step;
          let sum = 0;
          let covered = 0;
          let halfWidth = 0;
          for (let i = 0; i < repetitions; i++) {
            const answer = release(plan, rows, { random });
            const value = Number(answer.rows[r]![target.index]);
            const accuracy = answer.accuracy[r]![target.index];
            if (accuracy?.kind !== 'noise') throw new Error(`${c.sql}: expected additive noise`);
            halfWidth = accuracy.halfWidth;
            sum += value;
            if (Math.abs(value - truth) <= halfWidth) covered++;
          }
          expect(Math.abs(sum / repetitions - truth), c.sql).toBeLessThanOrEqual(
            (3 * halfWidth) / Math.sqrt(repetitions),
          );
          expect(covered / repetitions, c.sql).toBeGreaterThanOrEqual(0.88);
          cellsChecked++;
        }
      }
    }
    expect(cellsChecked).toBeGreaterThan(50);
  });

  it('chooses a median near the true one (permute-and-flip over the age buckets)', async () => {
    const plan = privatePlan('SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY age) FROM people', {
      epsilon: 1,
    });
    const rows = await run(database(), plan.sql);
    const [truth] = await plain(
      database(),
      'SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY age) AS median FROM commons.people',
    );
    const random = seededRandom(6);
    const answers = Array.from({ length: 300 }, () => Number(release(plan, rows, { random }).rows[0]![0]));
    const within = answers.filter((a) => Math.abs(a - Number(truth!.median)) <= 2).length;
    expect(within / answers.length).toBeGreaterThan(0.9);
  });

  it('runs a free query over the public table as written', async () => {
    const result = planQuery({
      sql: "SELECT community_id FROM communities WHERE region = 'north'",
      policy,
      role: 'analyst',
    });
    if (!result.ok || result.plan.kind !== 'public') throw new Error('expected a public plan');
    expect(release(result.plan, await run(database(), result.plan.sql)).rows).toEqual([['riverside']]);
  });
});

/** True rows in the order release puts groups in (by key, numbers numerically). */
function sortedByKeys(rows: readonly Row[]): Row[] {
  const keys = Object.keys(rows[0] ?? {}).filter((k) => /^k\d+$/.test(k));
  const compare = (a: unknown, b: unknown): number =>
    typeof a === 'number' && typeof b === 'number'
      ? a - b
      : String(a) < String(b)
        ? -1
        : String(a) > String(b)
          ? 1
          : 0;
  return [...rows].sort((x, y) => {
    for (const key of keys) {
      const order = compare(x[key], y[key]);
      if (order !== 0) return order;
    }
    return 0;
  });
}

/** A column's 95% half-width, for the centring tolerance (the spread of one released value). */
function answerHalfWidth(plan: QueryPlan, rows: readonly Row[], column: number): number | undefined {
  const answer = release(plan, rows, { random: seededRandom(99) });
  const accuracy = answer.accuracy[0]![column];
  if (!accuracy) return undefined;
  if (accuracy.kind === 'noise') return accuracy.halfWidth;
  if (accuracy.kind === 'interval') return (accuracy.upper - accuracy.lower) / 2;
  return undefined;
}

describeEachDatabase('contribution bounding on the database', (database) => {
  it('with at most 2 responses per person, the pre-noise answer equals plain SQL', async () => {
    await keepResponsesPerPerson(database(), 2);
    const grouped = privatePlan(
      'SELECT educ, COUNT(*), SUM(income), SUM(age) FROM survey_responses GROUP BY educ',
    );
    const rows = await run(database(), grouped.sql);
    const expected = await plain(
      database(),
      'SELECT educ, count(*) AS n, sum(income) AS income, sum(age) AS age FROM commons.survey_responses GROUP BY educ',
    );
    for (const row of expected) {
      expect(cell(rows, row.educ, 'm0')).toBe(Number(row.n));
      expect(cell(rows, row.educ, 'm1')).toBe(Number(row.income));
      expect(cell(rows, row.educ, 'm2')).toBe(Number(row.age));
    }
    const joined = privatePlan(
      'SELECT COUNT(*), SUM(p.income) FROM people p JOIN survey_responses s USING (person_id)',
    );
    const [joinedRow] = await run(database(), joined.sql);
    const [joinedTruth] = await plain(
      database(),
      'SELECT count(*) AS n, sum(p.income) AS income FROM commons.people p JOIN commons.survey_responses s USING (person_id)',
    );
    expect(Number(joinedRow!.m0)).toBe(Number(joinedTruth!.n));
    expect(Number(joinedRow!.m1)).toBe(Number(joinedTruth!.income));
    // At most 2 rows, so at most 2 distinct values per person: COUNT(DISTINCT) keeps them all.
    const distinct = privatePlan(
      'SELECT sex, COUNT(DISTINCT educ), COUNT(DISTINCT age) FROM survey_responses GROUP BY sex',
    );
    const distinctRows = await run(database(), distinct.sql);
    const distinctTruth = await plain(
      database(),
      'SELECT sex, count(DISTINCT educ) AS educ, count(DISTINCT age) AS age FROM commons.survey_responses GROUP BY sex',
    );
    for (const row of distinctTruth) {
      expect(cell(distinctRows, row.sex, 'm0')).toBe(Number(row.educ));
      expect(cell(distinctRows, row.sex, 'm1')).toBe(Number(row.age));
    }
  });

  it('one person with 1,000 added rows moves COUNT, COUNT(DISTINCT) and SUM by at most their sensitivity', async () => {
    // Everyone else now has at most 2 responses (previous test), so their rows are all kept and the
    // two runs below differ by person 7 alone: absent, then present with 1,000 rows.
    await plain(database(), 'DELETE FROM commons.survey_responses WHERE person_id = 7');
    const total = privatePlan(
      'SELECT COUNT(*), SUM(income), AVG(age), MEDIAN(age), COUNT(DISTINCT income) FROM survey_responses',
    );
    const byEducation = privatePlan(
      'SELECT educ, COUNT(*), SUM(income), SUM(age), COUNT(DISTINCT income) FROM survey_responses GROUP BY educ',
    );
    const [before] = await run(database(), total.sql);
    const groupsBefore = await run(database(), byEducation.sql);
    await plain(
      database(),
      `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married)
       SELECT 1000000 + i, 7, 40 + i % 2, 1, 1 + i % 16, 1, 400000 + i, 0 FROM generate_series(1, 1000) AS i`,
    );
    const [after] = await run(database(), total.sql);
    for (const measurement of total.measurements) {
      const moved = Math.abs(Number(after![measurement.column]) - Number(before![measurement.column]));
      expect(moved).toBeLessThanOrEqual(measurement.sensitivity.perGroup);
      expect(moved).toBeGreaterThan(0);
    }
    // The person's bucket counts of MEDIAN(age) add up to at most r rows.
    const buckets = total.quantiles[0]!.columns;
    const addedRows = buckets.reduce((sum, c) => sum + Number(after![c]) - Number(before![c]), 0);
    expect(addedRows).toBeGreaterThan(0);
    expect(addedRows).toBeLessThanOrEqual(total.contribution.maxRowsPerGroup);
    for (const c of buckets) expect(Number(after![c])).toBeGreaterThanOrEqual(Number(before![c]));

    const groupsAfter = await run(database(), byEducation.sql);
    for (const measurement of byEducation.measurements) {
      const moved = groupsAfter.map((row) =>
        Math.abs(Number(row[measurement.column]) - cell(groupsBefore, row.k0, measurement.column)),
      );
      // L∞ per group, and L1 over the k groups the person may reach.
      for (const m of moved) expect(m).toBeLessThanOrEqual(measurement.sensitivity.perGroup);
      expect(moved.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(measurement.sensitivity.l1);
      expect(moved.filter((m) => m > 0).length).toBe(byEducation.contribution.maxGroupsPerUnit);
    }
    expect(byEducation.measurements[0]!.sensitivity.l1).toBe(4);
  });

  it('a person with 40 rows in 32 groups moves exactly the k groups of smallest keyed hash, each by at most r', async () => {
    const plan = privatePlan('SELECT educ, sex, COUNT(*) FROM survey_responses GROUP BY educ, sex');
    const { maxGroupsPerUnit: k, maxRowsPerGroup: r } = plan.contribution;
    const keyParameter = plan.sql.selectionKeyParameter!;
    expect(plan.sql.text).toContain('group_hash');
    const withKey = (key: string) => ({
      ...plan.sql,
      parameters: plan.sql.parameters.map((p, i) => (i === keyParameter - 1 ? key : p)),
    });
    const count = (rows: readonly Row[], educ: unknown, sex: unknown) =>
      Number(rows.find((row) => row.k0 === educ && row.k1 === sex)!.m0);
    await plain(database(), 'DELETE FROM commons.survey_responses WHERE person_id = 9');
    const key = ['8071', '-5562378093311'];
    const before = await Promise.all(key.map((s) => run(database(), withKey(s))));
    // 40 rows over 32 (educ, sex) groups: 8 groups with 2 rows, 24 with 1.
    await plain(
      database(),
      `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married)
       SELECT 2000000 + i, 9, 30, (i / 16) % 2, 1 + i % 16, 1, 1000, 0 FROM generate_series(0, 39) AS i`,
    );
    for (const [i, s] of key.entries()) {
      const after = await run(database(), withKey(s));
      const moved = after
        .map((row) => ({ educ: row.k0, sex: row.k1, by: Number(row.m0) - count(before[i]!, row.k0, row.k1) }))
        .filter((group) => group.by !== 0);
      // H_s(unit, keys) as docs/sql.md states it, over this person's own groups alone.
      const expected = await plain(
        database(),
        `SELECT educ, sex, LEAST(count(*), ${r}) AS n FROM commons.survey_responses WHERE person_id = 9
         GROUP BY educ, sex
         ORDER BY hashtextextended(sex::text, hashtextextended(educ::text, hashtextextended('9', ${s}))), educ, sex
         LIMIT ${k}`,
      );
      expect(moved.length).toBe(k);
      expect(moved.map((g) => [g.educ, g.sex, g.by])).toEqual(
        expect.arrayContaining(expected.map((g) => [g.educ, g.sex, Number(g.n)])),
      );
      for (const group of moved)
        expect(group.by).toBeLessThanOrEqual(plan.measurements[0]!.sensitivity.perGroup);
      const total = moved.reduce((sum, group) => sum + group.by, 0);
      expect(total).toBeLessThanOrEqual(plan.measurements[0]!.sensitivity.l1);
    }
  });

  it('without a unique unit column, the rewrite caps in SQL; with one, it adds no bounding step', async () => {
    const catalog = await readCommonsCatalog(database().db, policy);
    const facts = { uniqueColumns: catalog.uniqueColumns ?? [] };
    expect(facts.uniqueColumns).toContain('people.person_id');
    const responses = privatePlan('SELECT COUNT(*) FROM survey_responses', undefined, facts);
    expect(responses.sql.text).toContain('per_person');
    const query =
      'SELECT educ, COUNT(*), SUM(income), AVG(age), COUNT(DISTINCT person_id) FROM people GROUP BY educ';
    const direct = privatePlan(query, undefined, facts);
    expect(direct.sql.text).not.toMatch(/per_person|row_number|DISTINCT/i);
    // A join (even with a public table) can repeat a person's row: bounded again.
    const joined = privatePlan(
      'SELECT COUNT(*) FROM people p JOIN communities c ON c.community_id = p.community_id',
      undefined,
      facts,
    );
    expect(joined.sql.text).toContain('per_person');
    const [bounded, unbounded] = [
      await run(database(), privatePlan(query).sql),
      await run(database(), direct.sql),
    ];
    const numbers = (rows: Row[]) =>
      sortedByKeys(rows).map((row) => Object.values(row).map((value) => Number(value)));
    expect(numbers(unbounded)).toEqual(numbers(bounded));
    const expected = await plain(
      database(),
      `SELECT educ, count(*) AS n, sum(round(least(greatest(income, 0), 500000)::numeric)) AS income
       FROM commons.people GROUP BY educ`,
    );
    for (const row of expected) {
      expect(cell(unbounded, row.educ, 'm0')).toBe(Number(row.n));
      expect(cell(unbounded, row.educ, 'm1')).toBe(Number(row.income));
    }
  });
});
