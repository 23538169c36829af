/**
 * A short run of the bounding benchmark (bench/bounding.bench.ts) on a generated 20,000-row
 * commons: behaviour, not timings. On the unit table (one row per person, proven by its primary
 * key) the plan has no window and no sort and the pre-noise answer equals raw SQL; on the table with
 * many rows per person, each person's rows are capped by a per-person aggregate (no window over the
 * table's rows) and the answer equals an independent computation of the cap.
 */
import { CompiledQuery, sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { benchQueries } from '../../bench/bounding.bench.ts';
import { commonsSql } from '../../bench/generate-commons.ts';
import { readCommonsCatalog } from '../../src/db/commons-catalog.ts';
import type { Policy } from '../../src/policy/schema.ts';
import type { CatalogFacts, PrivateQueryPlan } from '../../src/sql/index.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { loadDemoPolicy } from './demo-policy.ts';
import { privatePlanOf } from './private-plan.ts';

type Row = Record<string, unknown>;
interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly Plans?: readonly PlanNode[];
}

const ROWS = 20_000;
/** Plan nodes that reorder or pass on their input's rows without combining them. */
const PASS_THROUGH = new Set(['Sort', 'Incremental Sort', 'Subquery Scan', 'Gather Merge']);

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

describeEachDatabase(
  'bounding on a generated commons (benchmark smoke)',
  (database) => {
    let policy: Policy;
    let catalog: CatalogFacts;
    const db = () => database().db;
    const query = async (text: string, parameters: readonly unknown[] = []): Promise<Row[]> =>
      (await db().executeQuery(CompiledQuery.raw(text, [...parameters]))).rows as Row[];

    beforeAll(async () => {
      policy = await loadDemoPolicy();
      for (const statement of commonsSql(ROWS).filter((s) => !s.startsWith('VACUUM')))
        await sql.raw(statement).execute(db());
      await sql.raw('ANALYZE').execute(db());
      catalog = { uniqueColumns: (await readCommonsCatalog(db(), policy)).uniqueColumns ?? [] };
    }, 120_000);

    function plan(text: string): PrivateQueryPlan {
      return privatePlanOf({ sql: text, policy, role: 'analyst', catalog });
    }
    async function explain(p: PrivateQueryPlan): Promise<PlanNode[]> {
      const [row] = await query(`EXPLAIN (FORMAT JSON) ${p.sql.text}`, p.sql.parameters);
      const json = row!['QUERY PLAN'];
      const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as { Plan: PlanNode }[];
      return nodes(parsed[0]!.Plan);
    }

    it('runs the unit table at raw SQL shape: no window, no sort, the same true values', async () => {
      for (const q of benchQueries().filter((b) => b.table === 'people')) {
        const p = plan(q.dpgate);
        expect(p.bounding).toBe('none');
        const types = (await explain(p)).map((n) => n['Node Type']);
        expect(types).not.toContain('WindowAgg');
        expect(types).not.toContain('Sort');
        expect(types).not.toContain('Incremental Sort');
      }
      const [count] = await query(plan('SELECT COUNT(*), SUM(age) FROM people').sql.text);
      const [raw] = await query('SELECT count(*) AS n, sum(age) AS s FROM commons.people');
      expect([Number(count!.m0), Number(count!.m1)]).toEqual([ROWS, Number(raw!.s)]);
    });

    it('caps the many-rows table per person, ranking no row of the table', async () => {
      let windows = 0;
      for (const q of benchQueries().filter((b) => b.table === 'survey_responses')) {
        const p = plan(q.dpgate);
        for (const node of await explain(p)) {
          if (node['Node Type'] !== 'WindowAgg') continue;
          windows++;
          // The L0 selection ranks per-person rows: under the window, past any sort of its input,
          // is the per-person aggregate, never a scan of the table's rows.
          let input = node.Plans![0]!;
          while (PASS_THROUGH.has(input['Node Type'])) input = input.Plans![0]!;
          expect(input['Node Type']).toBe('Aggregate');
        }
      }
      expect(windows).toBeGreaterThan(0);
      const p = plan('SELECT COUNT(*), SUM(age) FROM survey_responses');
      const r = p.contribution.maxRowsPerGroup;
      const [bounded] = await query(p.sql.text, p.sql.parameters);
      const [truth] = await query(
        `SELECT sum(LEAST(n, ${r})) AS n, sum(CASE WHEN n <= ${r} THEN s ELSE trunc(s * ${r} / n) END) AS s,
                max(n) AS heaviest
         FROM (SELECT person_id, count(*) AS n, sum(age) AS s FROM commons.survey_responses GROUP BY person_id) AS per_person`,
      );
      expect(Number(truth!.heaviest)).toBeGreaterThan(r * 10);
      expect(Number(bounded!.m0)).toBe(Number(truth!.n));
      expect(Number(bounded!.m1)).toBe(Number(truth!.s));
    });
  },
  { demo: false },
);
