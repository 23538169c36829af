/**
 * Public ranges of days (`public_domain: { from, to }` on a date or timestamp column) and the
 * per-column distinct-value bound (`max_distinct_per_unit`). The policy gives survey_responses
 * (r = 2, k = 2) a date `answered_on` and a timestamp `answered_at` (timestamptz in the database)
 * over 2019-01-01 … 2024-12-31, and race a bound of 1 and income of 1 distinct value per person.
 * Keys over the range release the exact image of the (narrowed) range, no thresholding; the
 * database holds rows past the range too (to mid-2025), which fall in no released group. On PGlite
 * and PostgreSQL the noiseless answers, run as the gateway runs them (runReadOnly, TimeZone fixed to
 * UTC whatever the session says), equal plain SQL group for group; the distinct-value bound is
 * enforced on data that breaks it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { syncQueryRole } from '../../src/db/query-role.ts';
import { crossCheckPolicy } from '../../src/policy/cross-check.ts';
import { policyJsonSchema } from '../../src/policy/json-schema.ts';
import { type Policy, policySchema } from '../../src/policy/schema.ts';
import { runReadOnly } from '../../src/queries/execute.ts';
import { dayNumber, dayText, extractField, truncateDay } from '../../src/sql/calendar.ts';
import { type PrivateQueryPlan, planQuery } from '../../src/sql/index.ts';
import type { PublicDomain } from '../../src/sql/plan.ts';
import { describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { keepResponsesPerPerson, plain, type Row } from '../support/run-sql.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

const RANGE = { from: '2019-01-01', to: '2024-12-31' };

let policy: Policy;
beforeAll(async () => {
  policy = structuredClone(await loadDemoPolicy()) as Policy;
  const columns = policy.tables.survey_responses!.columns as Record<string, Record<string, unknown>>;
  columns.answered_on = { type: 'date', public_domain: RANGE };
  columns.answered_at = { type: 'timestamp', public_domain: RANGE };
  columns.race = { ...columns.race, max_distinct_per_unit: 1 };
  columns.income = { ...columns.income, max_distinct_per_unit: 1 };
});

function plan(sql: string): PrivateQueryPlan {
  return privatePlanOf({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
}

const days = (from: string, to: string, step: string, type = 'timestamp'): PublicDomain =>
  ({ kind: 'days', type, from, to, step }) as PublicDomain;

/**
 * Accepted over a public range of days: the domain, the number of groups released, the L1
 * sensitivity of every measurement, and the plain SQL (in UTC) the noiseless answer must equal.
 */
const ACCEPTED: { sql: string; domain: PublicDomain; groups: number; l1: number[]; plain: string }[] = [
  {
    sql: "SELECT date_trunc('month', answered_on) AS month, COUNT(*) FROM survey_responses GROUP BY 1",
    domain: days('2019-01-01', '2024-12-01', 'month'),
    groups: 72,
    l1: [4],
    plain:
      "SELECT date_trunc('month', answered_on)::timestamp AS k, count(*) AS m FROM commons.survey_responses GROUP BY 1",
  },
  {
    sql: 'SELECT EXTRACT(YEAR FROM answered_on) AS year, COUNT(*) FROM survey_responses GROUP BY 1',
    domain: { kind: 'range', from: 2019, to: 2024 },
    groups: 6,
    l1: [4],
    plain:
      'SELECT EXTRACT(YEAR FROM answered_on) AS k, count(*) AS m FROM commons.survey_responses GROUP BY 1',
  },
  {
    // EXTRACT composes with the integer arithmetic of computed keys.
    sql: 'SELECT EXTRACT(YEAR FROM answered_at) - 2000 AS yy, SUM(age) FROM survey_responses GROUP BY 1',
    domain: { kind: 'range', from: 19, to: 24 },
    groups: 6,
    l1: [400],
    plain:
      "SELECT EXTRACT(YEAR FROM answered_at AT TIME ZONE 'UTC') - 2000 AS k, sum(age) AS m FROM commons.survey_responses GROUP BY 1",
  },
  {
    sql: "SELECT date_part('isodow', answered_at)::int AS weekday, COUNT(*) FROM survey_responses GROUP BY 1",
    domain: { kind: 'range', from: 1, to: 7 },
    groups: 7,
    l1: [4],
    plain:
      "SELECT date_part('isodow', answered_at AT TIME ZONE 'UTC')::int AS k, count(*) AS m FROM commons.survey_responses GROUP BY 1",
  },
  {
    sql: "SELECT answered_on, COUNT(*) FROM survey_responses WHERE answered_on >= '2024-12-01' GROUP BY answered_on",
    domain: days('2024-12-01', '2024-12-31', 'day', 'date'),
    groups: 31,
    l1: [4],
    plain:
      "SELECT answered_on AS k, count(*) AS m FROM commons.survey_responses WHERE answered_on >= '2024-12-01' GROUP BY 1",
  },
  {
    sql: "SELECT answered_at::date AS day, COUNT(*) FROM survey_responses WHERE answered_at < '2019-02-01' GROUP BY 1",
    domain: days('2019-01-01', '2019-01-31', 'day', 'date'),
    groups: 31,
    l1: [4],
    plain:
      "SELECT (answered_at AT TIME ZONE 'UTC')::date AS k, count(*) AS m FROM commons.survey_responses WHERE answered_at < '2019-02-01 00:00:00+00' GROUP BY 1",
  },
  {
    sql: "SELECT date_trunc('quarter', answered_at) AS q, COUNT(*) FROM survey_responses WHERE answered_at BETWEEN '2023-01-01' AND '2023-12-31' GROUP BY 1",
    domain: days('2023-01-01', '2023-10-01', 'quarter'),
    groups: 4,
    l1: [4],
    plain:
      "SELECT date_trunc('quarter', answered_at AT TIME ZONE 'UTC') AS k, count(*) AS m FROM commons.survey_responses WHERE answered_at BETWEEN '2023-01-01 00:00:00+00' AND '2023-12-31 00:00:00+00' GROUP BY 1",
  },
  {
    // ISO weeks start on Monday: 2019-01-01 is a Tuesday, in the week of Monday 2018-12-31.
    sql: "SELECT date_trunc('week', answered_on) AS week, COUNT(*) FROM survey_responses WHERE answered_on <= '2019-03-31' GROUP BY 1",
    domain: days('2018-12-31', '2019-03-25', 'week'),
    groups: 13,
    l1: [4],
    plain:
      "SELECT date_trunc('week', answered_on)::timestamp AS k, count(*) AS m FROM commons.survey_responses WHERE answered_on <= '2019-03-31' GROUP BY 1",
  },
  {
    // Cast to int, EXTRACT divides as int4: quarters 1 … 4 by arithmetic (the year narrows the
    // range to 2023, whose months still reach all four).
    sql: 'SELECT (EXTRACT(MONTH FROM answered_on)::int - 1) / 3 + 1 AS q, COUNT(*) FROM survey_responses WHERE EXTRACT(YEAR FROM answered_on) = 2023 GROUP BY 1',
    domain: { kind: 'range', from: 1, to: 4 },
    groups: 4,
    l1: [4],
    plain:
      'SELECT (EXTRACT(MONTH FROM answered_on)::int - 1) / 3 + 1 AS k, count(*) AS m FROM commons.survey_responses WHERE EXTRACT(YEAR FROM answered_on) = 2023 GROUP BY 1',
  },
  {
    sql: 'SELECT EXTRACT(YEAR FROM answered_on) AS year, COUNT(*) FROM survey_responses WHERE EXTRACT(YEAR FROM answered_on) IN (2020, 2021) GROUP BY 1',
    domain: { kind: 'values', values: [2020, 2021] },
    groups: 2,
    l1: [4],
    plain:
      'SELECT EXTRACT(YEAR FROM answered_on) AS k, count(*) AS m FROM commons.survey_responses WHERE EXTRACT(YEAR FROM answered_on) IN (2020, 2021) GROUP BY 1',
  },
  {
    // A condition on the year narrows the range of days: twelve months of 2023.
    sql: "SELECT date_trunc('month', answered_at) AS month, COUNT(*) FROM survey_responses WHERE EXTRACT(YEAR FROM answered_at) = 2023 GROUP BY 1",
    domain: days('2023-01-01', '2023-12-01', 'month'),
    groups: 12,
    l1: [4],
    plain:
      "SELECT date_trunc('month', answered_at AT TIME ZONE 'UTC') AS k, count(*) AS m FROM commons.survey_responses WHERE EXTRACT(YEAR FROM answered_at AT TIME ZONE 'UTC') = 2023 GROUP BY 1",
  },
  {
    sql: "SELECT date_part('doy', answered_on)::int AS doy, COUNT(*) FROM survey_responses WHERE date_part('year', answered_on) > 2023 GROUP BY 1",
    domain: { kind: 'range', from: 1, to: 366 },
    groups: 366,
    l1: [4],
    plain:
      "SELECT date_part('doy', answered_on)::int AS k, count(*) AS m FROM commons.survey_responses WHERE date_part('year', answered_on) > 2023 GROUP BY 1",
  },
  {
    // Every day of a timestamp holds every hour, whatever the range.
    sql: 'SELECT EXTRACT(HOUR FROM answered_at) AS hour, COUNT(*) FROM survey_responses GROUP BY 1',
    domain: { kind: 'range', from: 0, to: 23 },
    groups: 24,
    l1: [4],
    plain:
      "SELECT EXTRACT(HOUR FROM answered_at AT TIME ZONE 'UTC') AS k, count(*) AS m FROM commons.survey_responses GROUP BY 1",
  },
  {
    // Narrowed to three months: a person's k = min(2, 3) = 2 groups.
    sql: "SELECT EXTRACT(MONTH FROM answered_on), COUNT(*) FROM survey_responses WHERE answered_on BETWEEN '2024-03-15' AND '2024-05-02' GROUP BY 1",
    domain: { kind: 'range', from: 3, to: 5 },
    groups: 3,
    l1: [4],
    plain:
      "SELECT EXTRACT(MONTH FROM answered_on) AS k, count(*) AS m FROM commons.survey_responses WHERE answered_on BETWEEN '2024-03-15' AND '2024-05-02' GROUP BY 1",
  },
];

/** Keys over a range of days whose image is not computed: they keep partition selection. */
const THRESHOLDED = [
  "SELECT date_trunc('hour', answered_at), COUNT(*) FROM survey_responses GROUP BY 1",
  'SELECT EXTRACT(EPOCH FROM answered_at), COUNT(*) FROM survey_responses GROUP BY 1',
  'SELECT EXTRACT(SECOND FROM answered_at), COUNT(*) FROM survey_responses GROUP BY 1',
  'SELECT answered_at, COUNT(*) FROM survey_responses GROUP BY 1',
  // A division of EXTRACT's numeric result does not truncate: no integer image.
  'SELECT EXTRACT(MONTH FROM answered_on) / 4, COUNT(*) FROM survey_responses GROUP BY 1',
];

/** Refused, with their codes. */
const REFUSED: { sql: string; code: string }[] = [
  {
    sql: "SELECT date_trunc(CASE WHEN age > 50 THEN 'year' ELSE 'month' END, answered_on), COUNT(*) FROM survey_responses GROUP BY 1",
    code: 'data_dependent_error',
  },
  {
    sql: 'SELECT EXTRACT(YEAR FROM answered_on) % 0, COUNT(*) FROM survey_responses GROUP BY 1',
    code: 'data_dependent_error',
  },
  { sql: 'SELECT answered_on + 1, COUNT(*) FROM survey_responses GROUP BY 1', code: 'unsupported_sql' },
  {
    sql: 'SELECT date_part(answered_on::text, answered_on), COUNT(*) FROM survey_responses GROUP BY 1',
    code: 'data_dependent_error',
  },
  // A year (up to 5874897) does not fit int2: the cast could fail.
  {
    sql: 'SELECT EXTRACT(YEAR FROM answered_on)::int2, COUNT(*) FROM survey_responses GROUP BY 1',
    code: 'data_dependent_error',
  },
];

/** COUNT(DISTINCT x) under the distinct-value bound: L1 of each measurement. */
const DISTINCT: { sql: string; l1: number[] }[] = [
  // race: d = 1 < r = 2, in k = 2 groups: k·min(r, d) = 2 (4 without the bound).
  { sql: 'SELECT married, COUNT(DISTINCT race) FROM survey_responses GROUP BY married', l1: [2] },
  // An expression of race alone has at most d distinct values too.
  {
    sql: "SELECT COUNT(DISTINCT CASE WHEN race < 3 THEN 'low' ELSE 'high' END) FROM survey_responses",
    l1: [1],
  },
  // educ declares no bound: r = 2 per group.
  { sql: 'SELECT COUNT(DISTINCT educ) FROM survey_responses', l1: [2] },
  // Two columns, each bounded by 1: at most 1 · 1 combinations per person.
  { sql: "SELECT COUNT(DISTINCT race::text || '/' || income::text) FROM survey_responses", l1: [1] },
  // One bounded and one unbounded column: the bound does not apply.
  { sql: 'SELECT COUNT(DISTINCT race::text || educ::text) FROM survey_responses', l1: [2] },
];

function refusalCode(sql: string): string | undefined {
  const result = planQuery({ sql, policy, role: 'analyst', request: { epsilon: 1, delta: 1e-7 } });
  return result.ok ? undefined : result.refusal.code;
}

describe('keys over a public range of days', () => {
  it.each(ACCEPTED.map((c) => [c.sql, c] as const))('%s', (_sql, c) => {
    const p = plan(c.sql);
    if (p.grouping.kind !== 'public') throw new Error(`expected public groups, got ${p.grouping.kind}`);
    expect(p.grouping.keys.map((k) => k.domain)).toEqual([c.domain]);
    expect(p.measurements.map((m) => m.sensitivity.l1)).toEqual(c.l1);
  });

  it.each(THRESHOLDED)('keeps thresholding for %s', (sql) => {
    expect(plan(sql).grouping.kind).toBe('selected');
  });

  it.each(REFUSED.map((c) => [c.sql, c.code] as const))('refuses %s', (sql, code) => {
    expect(refusalCode(sql)).toBe(code);
  });

  it('counts the days of a domain against max_result_cells', () => {
    const limited = structuredClone(policy) as Policy;
    (limited.limits as { max_result_cells: number }).max_result_cells = 100;
    const result = planQuery({
      sql: 'SELECT answered_on, COUNT(*) FROM survey_responses GROUP BY 1',
      policy: limited,
      role: 'analyst',
    });
    expect(result.ok ? undefined : result.refusal.code).toBe('too_many_cells');
  });
});

describe('the distinct-value bound', () => {
  it.each(DISTINCT.map((c) => [c.sql, c.l1] as const))('%s', (sql, l1) => {
    expect(plan(sql).measurements.map((m) => m.sensitivity.l1)).toEqual(l1);
  });
});

describe('policy check of the new settings', () => {
  const issues = (column: Record<string, unknown>) => {
    const input = structuredClone(policy) as unknown as {
      tables: Record<string, { columns: Record<string, unknown> }>;
    };
    input.tables.survey_responses!.columns.checked = column;
    const parsed = policySchema.safeParse(input);
    if (!parsed.success) return parsed.error.issues.map((i) => i.message);
    return crossCheckPolicy(parsed.data).map((i) => i.message);
  };

  it('accepts a range of days on date and timestamp columns', () => {
    expect(issues({ type: 'date', public_domain: RANGE })).toEqual([]);
    expect(issues({ type: 'timestamp', public_domain: RANGE, max_distinct_per_unit: 3 })).toEqual([]);
  });

  it('explains what is wrong', () => {
    expect(issues({ type: 'int', public_domain: RANGE })).toEqual([
      'a range of days applies to date and timestamp columns only, not int',
    ]);
    expect(issues({ type: 'date', public_domain: { from: '2019-02-30', to: '2024-12-31' } })).toEqual([
      '"2019-02-30" is not a calendar day',
    ]);
    expect(issues({ type: 'date', public_domain: { from: '2024-01-01', to: '2019-01-01' } })).toEqual([
      'from 2024-01-01 is after to 2019-01-01',
    ]);
    expect(issues({ type: 'date', public_domain: { from: '2019-01-01', to: '2060-01-01' } })).toEqual([
      'holds 14976 days; at most 10000',
    ]);
    expect(issues({ type: 'date', public_domain: { from: '1/1/2019', to: '2024-12-31' } })).toEqual([
      'must be a date written YYYY-MM-DD',
    ]);
    expect(issues({ type: 'int', max_distinct_per_unit: 0 })).toEqual(['must be at least 1']);
  });

  it('is in the exported JSON schema', () => {
    const column = propertiesHolding(policyJsonSchema(), 'public_domain') as Record<
      string,
      { anyOf?: { required?: string[] }[]; type?: string }
    >;
    expect(column.public_domain?.anyOf?.map((form) => form.required ?? [])).toEqual([[], ['from', 'to']]);
    expect(column.max_distinct_per_unit?.type).toBe('integer');
  });
});

/** The first `properties` object of a JSON schema that declares `name`. */
function propertiesHolding(schema: unknown, name: string): unknown {
  if (schema === null || typeof schema !== 'object') return undefined;
  const properties = (schema as { properties?: Record<string, unknown> }).properties;
  if (properties && name in properties) return properties;
  for (const child of Object.values(schema)) {
    const found = propertiesHolding(child, name);
    if (found) return found;
  }
  return undefined;
}

/** A released or plain key as comparable text (timestamps as ISO instants, numbers as numbers). */
function keyText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && /^-?\d+(\.0+)?$/.test(value)) return String(Number(value));
  return String(value);
}

describeEachDatabase('public days and distinct bounds on the database', (database) => {
  const gateway = (p: PrivateQueryPlan) => runReadOnly(database().queries, p.sql, 60_000);

  beforeAll(async () => {
    const db = database();
    await keepResponsesPerPerson(db, 2);
    // 2,400 days from 2019-01-01 reach mid-2025: past the public range. Times spread over the day.
    await plain(
      db,
      `ALTER TABLE commons.survey_responses ADD COLUMN answered_on date, ADD COLUMN answered_at timestamptz`,
    );
    await plain(
      db,
      `UPDATE commons.survey_responses SET answered_on = date '2019-01-01' + (response_id * 37) % 2400,
         answered_at = timestamptz '2019-01-01 00:00:00+00' + ((response_id * 7919) % 3456000) * interval '1 minute'`,
    );
    // race as the data's own bound of one value per person, so the cap leaves it unchanged.
    await plain(
      db,
      'UPDATE commons.survey_responses s SET race = p.race FROM commons.people p WHERE p.person_id = s.person_id',
    );
    await db.db.transaction().execute((trx) => syncQueryRole(trx, policy));
    // A session far from UTC: the gateway's transaction sets UTC for itself.
    await plain(db, "SET TimeZone = 'Pacific/Kiritimati'");
  });

  it('runs every query under TimeZone UTC', async () => {
    const rows = await runReadOnly(
      database().queries,
      { text: "SELECT current_setting('TimeZone') AS zone", parameters: [] },
      60_000,
    );
    expect(rows).toEqual([{ zone: 'UTC' }]);
  });

  it('computes calendar fields and truncations as PostgreSQL does', async () => {
    const fields = [
      'year',
      'quarter',
      'month',
      'week',
      'day',
      'dow',
      'isodow',
      'doy',
      'isoyear',
      'decade',
      'century',
    ];
    const units = ['week', 'month', 'quarter', 'year'] as const;
    // Five years around two leap days and ISO years that start in December or end in January.
    const rows = await plain(
      database(),
      `SELECT d::date::text AS the_day, ${fields.map((f) => `extract(${f} FROM d)::int AS ${f}`).join(', ')},
         ${units.map((u) => `date_trunc('${u}', d)::date::text AS trunc_${u}`).join(', ')}
       FROM generate_series(timestamp '2015-12-01', timestamp '2021-02-01', interval '1 day') AS d`,
    );
    expect(rows).toHaveLength(1890);
    for (const row of rows) {
      const day = dayNumber(String(row.the_day))!;
      expect(dayText(day)).toBe(row.the_day);
      for (const field of fields)
        expect(extractField(day, field), `${field} of ${String(row.the_day)}`).toBe(row[field]);
      for (const unit of units)
        expect(dayText(truncateDay(day, unit)), `${unit} of ${String(row.the_day)}`).toBe(
          row[`trunc_${unit}`],
        );
    }
  });

  it.each(ACCEPTED.map((c) => [c.sql, c] as const))('noiseless %s equals plain SQL', async (_sql, c) => {
    const rows = await gateway(plan(c.sql));
    const truth = await plain(database(), c.plain);
    expect(rows).toHaveLength(c.groups);
    const released = new Map(rows.map((row) => [keyText(row.k0), Number(row.m0)]));
    for (const row of rows) {
      const match = truth.find((t) => keyText(t.k) === keyText(row.k0));
      expect(Number(row.m0), `group ${keyText(row.k0)}`).toBe(match ? Number(match.m) : 0);
    }
    // Every true group inside the range is released; those past it (2025) are not.
    const inRange = truth.filter((t: Row) => t.k !== null && released.has(keyText(t.k)));
    expect(inRange.length).toBeGreaterThan(0);
    expect(
      truth.filter((t) => t.k !== null && !released.has(keyText(t.k))).every((t) => outside(t.k, c)),
    ).toBe(true);
  });

  it('noiseless COUNT(DISTINCT race) equals plain SQL where the data keep the bound', async () => {
    const rows = await gateway(
      plan('SELECT married, COUNT(DISTINCT race) FROM survey_responses GROUP BY married'),
    );
    const truth = await plain(
      database(),
      'SELECT married AS k, count(DISTINCT race) AS m FROM commons.survey_responses GROUP BY 1',
    );
    for (const t of truth)
      expect(Number(rows.find((r) => Number(r.k0) === Number(t.k))?.m0)).toBe(Number(t.m));
  });

  it('reads EXTRACT of an infinite date clamped, so a cast to int cannot fail', async () => {
    const db = database();
    await plain(
      db,
      `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married, answered_on, answered_at)
       VALUES (900010, 2, 40, 0, 10, 1, 1000, 0, 'infinity', '-infinity')`,
    );
    try {
      const rows = await gateway(
        plan(
          "SELECT EXTRACT(YEAR FROM answered_on)::int AS year, COUNT(*), SUM(date_part('year', answered_at)::int - 2000) FROM survey_responses GROUP BY 1",
        ),
      );
      expect(rows.map((row) => Number(row.k0)).sort()).toEqual([2019, 2020, 2021, 2022, 2023, 2024]);
    } finally {
      await plain(db, 'DELETE FROM commons.survey_responses WHERE response_id = 900010');
    }
  });

  it('keeps at most d distinct values of a person whose data break the bound', async () => {
    const db: TestDatabase = database();
    const sql = plan('SELECT COUNT(DISTINCT income) FROM survey_responses');
    const count = async () => Number((await gateway(sql))[0]!.m0);
    const plainCount = async () =>
      Number((await plain(db, 'SELECT count(DISTINCT income) AS m FROM commons.survey_responses'))[0]!.m);
    await plain(db, 'DELETE FROM commons.survey_responses WHERE person_id = 1');
    const [before, plainBefore] = [await count(), await plainCount()];
    // Two incomes no one else has, for one person (d = 1 for income).
    await plain(
      db,
      `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married)
       VALUES (900001, 1, 40, 0, 10, 1, 123456.5, 0), (900002, 1, 40, 0, 10, 1, 234567.5, 1)`,
    );
    expect((await plainCount()) - plainBefore).toBe(2);
    expect((await count()) - before).toBe(1);
  });
});

/** Whether a plain group's key lies outside the query's released domain (rows past the range). */
function outside(key: unknown, c: (typeof ACCEPTED)[number]): boolean {
  const text = keyText(key);
  if (c.domain.kind === 'range') return Number(text) < c.domain.from || Number(text) > c.domain.to;
  if (c.domain.kind === 'days') return text.slice(0, 10) < c.domain.from || text.slice(0, 10) > c.domain.to;
  return false;
}
