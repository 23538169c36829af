// Raw SQL through `pg` against dpgate's rewritten SQL for the same aggregate, interleaved (A B A B …,
// one connection each) on a generated commons (bench/generate-commons.ts). Reports p50/p99 of each
// and the ratio of medians. Run:
//   npx tsx bench/generate-commons.ts 10000000          (once; database dpgate_bench_10000000)
//   npx tsx bench/bounding.bench.ts [rows] [rounds]     (default 1000000 rows, 7 rounds)
//   npx tsx bench/bounding.bench.ts 10000000 1 --explain   (EXPLAIN (ANALYZE, BUFFERS) of the rewrites)
// Comparing two rewrites (another commit's against this tree's), interleaved in the same run:
//   npx tsx bench/bounding.bench.ts 1000000 --dump > rewrites.json     (run in the other commit's tree)
//   npx tsx bench/bounding.bench.ts 1000000 5 --baseline=rewrites.json (adds "baseline" columns)
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { planQuery } from '../src/sql/index.ts';
import { demoPolicySnapshot } from '../test/support/demo-policy.ts';
import { benchDatabaseUrl } from './generate-commons.ts';
import { readPlanningFacts } from './planning-facts.ts';

export interface BenchQuery {
  readonly name: string;
  readonly table: 'people' | 'survey_responses';
  readonly dpgate: string;
  readonly raw: string;
  /** The same measurement capped per person by hand (the least work any exact cap needs), if capped. */
  readonly handCapped?: string;
}

export function benchQueries(): BenchQuery[] {
  return (['people', 'survey_responses'] as const).flatMap((table) => {
    const t = `commons.${table}`;
    // Capping by hand at the policy's r = 2 rows per person (no L0 selection): what any exact
    // per-person cap must at least do, a GROUP BY on the person.
    const capped = (perPerson: string, outer: string, keys = '') =>
      table === 'survey_responses'
        ? {
            handCapped: `SELECT ${keys}${outer} FROM (SELECT ${keys}person_id, count(*) AS n, ${perPerson} FROM ${t} GROUP BY ${keys}person_id) AS per_person${keys ? ' GROUP BY educ' : ''}`,
          }
        : {};
    return [
      {
        name: 'COUNT',
        table,
        dpgate: `SELECT COUNT(*) FROM ${table}`,
        raw: `SELECT count(*) FROM ${t}`,
        ...capped('1 AS one', 'sum(LEAST(n, 2))'),
      },
      {
        name: 'SUM',
        table,
        dpgate: `SELECT SUM(income) FROM ${table}`,
        raw: `SELECT sum(income) FROM ${t}`,
        ...capped('sum(round(income)::int4) AS s', 'sum(CASE WHEN n <= 2 THEN s ELSE s * 2 / n END)'),
      },
      {
        name: 'AVG',
        table,
        dpgate: `SELECT AVG(age) FROM ${table}`,
        raw: `SELECT avg(age) FROM ${t}`,
        ...capped('sum(age) AS s', 'sum(CASE WHEN n <= 2 THEN s ELSE s * 2 / n END), sum(LEAST(n, 2))'),
      },
      {
        name: 'GROUP BY',
        table,
        dpgate: `SELECT educ, COUNT(*) FROM ${table} GROUP BY educ`,
        raw: `SELECT educ, count(*) FROM ${t} GROUP BY educ`,
        ...capped('1 AS one', 'sum(LEAST(n, 2))', 'educ, '),
      },
    ];
  });
}

interface PlannedSql {
  readonly text: string;
  readonly parameters: readonly unknown[];
  readonly selectionKeyParameter?: number;
}

/** The rewritten SQL for one query as the planner makes it (the selection key still a placeholder). */
async function planned(sql: string, client: pg.Client): Promise<PlannedSql> {
  const snapshot = await demoPolicySnapshot();
  const catalog = await readPlanningFacts(client);
  const result = planQuery({ sql, policy: snapshot.policy, role: 'analyst', catalog } as never);
  if (!result.ok) throw new Error(`${sql}: ${result.refusal.message}`);
  return result.plan.sql as PlannedSql;
}

/** The SQL as the gateway would run it: a fresh selection key in its placeholder. */
function withFreshKey(sql: PlannedSql) {
  const parameters = [...sql.parameters];
  const seed = sql.selectionKeyParameter;
  if (seed !== undefined) parameters[seed - 1] = String(crypto.getRandomValues(new BigInt64Array(1))[0]);
  return { text: sql.text, parameters };
}

/** The rewritten SQL for one query, as the gateway would run it (a fresh selection key). */
export async function rewritten(sql: string, client: pg.Client) {
  return withFreshKey(await planned(sql, client));
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const rows = Number(args[0] ?? 1_000_000);
  const rounds = Number(args[1] ?? 7);
  const explain = process.argv.includes('--explain');
  const baselineFile = process.argv.find((a) => a.startsWith('--baseline='))?.slice('--baseline='.length);
  const baselines: Record<string, PlannedSql> = baselineFile
    ? JSON.parse(await readFile(baselineFile, 'utf8'))
    : {};
  const url = benchDatabaseUrl(process.env.BENCH_DATABASE ?? `dpgate_bench_${rows}`);
  const [raw, gate] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
  await Promise.all([raw.connect(), gate.connect()]);
  if (process.argv.includes('--dump')) {
    const dump: Record<string, PlannedSql> = {};
    for (const query of benchQueries())
      dump[`${query.table} ${query.name}`] = await planned(query.dpgate, gate);
    console.log(JSON.stringify(dump, null, 1));
    await Promise.all([raw.end(), gate.end()]);
    return;
  }
  const machine = await raw.query<{ version: string }>('SELECT version()');
  console.log(`${machine.rows[0]!.version}; node ${process.version}; ${rows} rows; ${rounds} rounds`);
  const tables = process.env.BENCH_TABLES?.split(',');
  const queries = benchQueries().filter((q) => !tables || tables.includes(q.table));
  if (explain) {
    for (const query of queries.filter((q) => q.name !== 'AVG')) {
      const sql = await rewritten(query.dpgate, gate);
      const result = await gate.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.parameters);
      console.log(
        `\n### ${query.name} on ${query.table}\n\n\`\`\`\n${result.rows.map((r) => r['QUERY PLAN']).join('\n')}\n\`\`\``,
      );
    }
  } else {
    const compared = baselineFile ? ' baseline p50 | dpgate / baseline (medians) |' : '';
    console.log(
      `| table | query | raw p50 | raw p99 | dpgate p50 | dpgate p99 | dpgate / raw (medians) | dpgate / hand-capped SQL |${compared}`,
    );
    console.log(`|---|---|---:|---:|---:|---:|---:|---:|${baselineFile ? '---:|---:|' : ''}`);
    for (const query of queries) {
      const ours = await planned(query.dpgate, gate);
      const baseline = baselines[`${query.table} ${query.name}`];
      const timed = async (client: pg.Client, sql: PlannedSql, into: number[]) => {
        const fresh = withFreshKey(sql);
        const start = performance.now();
        await client.query(fresh.text, [...fresh.parameters]);
        into.push(performance.now() - start);
      };
      const warm: number[] = [];
      await timed(raw, { text: query.raw, parameters: [] }, warm);
      await timed(gate, ours, warm);
      // A A' B C …: raw, this tree's rewrite, the baseline rewrite, hand-capped SQL, per round.
      const [a, b, c, d]: [number[], number[], number[], number[]] = [[], [], [], []];
      for (let round = 0; round < rounds; round++) {
        await timed(raw, { text: query.raw, parameters: [] }, a);
        await timed(gate, ours, b);
        if (baseline) await timed(gate, baseline, d);
        if (query.handCapped) await timed(raw, { text: query.handCapped, parameters: [] }, c);
      }
      for (const times of [a, b, c, d]) times.sort((x, y) => x - y);
      const ms = (x: number) => `${x.toFixed(x < 100 ? 1 : 0)} ms`;
      const ratio = (x: number[], y: number[]) =>
        y.length ? `${(quantile(x, 0.5) / quantile(y, 0.5)).toFixed(2)}×` : '';
      const baselineCells = baselineFile ? ` ${d.length ? ms(quantile(d, 0.5)) : ''} | ${ratio(b, d)} |` : '';
      console.log(
        `| ${query.table} | ${query.name} | ${ms(quantile(a, 0.5))} | ${ms(quantile(a, 0.99))} | ${ms(quantile(b, 0.5))} | ${ms(quantile(b, 0.99))} | ${ratio(b, a)} | ${ratio(b, c)} |${baselineCells}`,
      );
    }
  }
  await Promise.all([raw.end(), gate.end()]);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
