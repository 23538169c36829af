// Raw SQL through `pg` against dpgate's rewritten SQL for the same aggregate, interleaved (A B A B …,
// one connection each) on a generated commons (bench/generate-commons.ts). Reports p50/p99 of each
// and the ratio of medians. Run:
//   npx tsx bench/generate-commons.ts 10000000          (once; database dpgate_bench_10000000)
//   npx tsx bench/bounding.bench.ts [rows] [rounds]     (default 1000000 rows, 7 rounds)
//   npx tsx bench/bounding.bench.ts 10000000 1 --explain   (EXPLAIN (ANALYZE, BUFFERS) of the rewrites)
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

/** The rewritten SQL for one query, as the gateway would run it (a fresh selection key). */
export async function rewritten(sql: string, client: pg.Client) {
  const snapshot = await demoPolicySnapshot();
  const catalog = await readPlanningFacts(client);
  const planned = planQuery({ sql, policy: snapshot.policy, role: 'analyst', catalog } as never);
  if (!planned.ok) throw new Error(`${sql}: ${planned.refusal.message}`);
  const plan = planned.plan;
  const parameters = [...plan.sql.parameters];
  const seed = (plan.sql as { selectionKeyParameter?: number }).selectionKeyParameter;
  if (seed !== undefined) parameters[seed - 1] = String(crypto.getRandomValues(new BigInt64Array(1))[0]);
  return { text: plan.sql.text, parameters };
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const rows = Number(args[0] ?? 1_000_000);
  const rounds = Number(args[1] ?? 7);
  const explain = process.argv.includes('--explain');
  const url = benchDatabaseUrl(process.env.BENCH_DATABASE ?? `dpgate_bench_${rows}`);
  const [raw, gate] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
  await Promise.all([raw.connect(), gate.connect()]);
  const machine = await raw.query<{ version: string }>('SELECT version()');
  console.log(`${machine.rows[0]!.version}; node ${process.version}; ${rows} rows; ${rounds} rounds`);
  if (explain) {
    for (const query of benchQueries().filter((q) => q.name !== 'AVG')) {
      const sql = await rewritten(query.dpgate, gate);
      const result = await gate.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.parameters);
      console.log(
        `\n### ${query.name} on ${query.table}\n\n\`\`\`\n${result.rows.map((r) => r['QUERY PLAN']).join('\n')}\n\`\`\``,
      );
    }
  } else {
    console.log(
      '| table | query | raw p50 | raw p99 | dpgate p50 | dpgate p99 | dpgate / raw (medians) | dpgate / hand-capped SQL |',
    );
    console.log('|---|---|---:|---:|---:|---:|---:|---:|');
    const tables = process.env.BENCH_TABLES?.split(',');
    for (const query of benchQueries().filter((q) => !tables || tables.includes(q.table))) {
      const sql = await rewritten(query.dpgate, gate);
      await raw.query(query.raw);
      await gate.query(sql.text, sql.parameters);
      const [a, b, c]: [number[], number[], number[]] = [[], [], []];
      for (let round = 0; round < rounds; round++) {
        let start = performance.now();
        await raw.query(query.raw);
        a.push(performance.now() - start);
        const fresh = await rewritten(query.dpgate, gate);
        start = performance.now();
        await gate.query(fresh.text, fresh.parameters);
        b.push(performance.now() - start);
        if (query.handCapped) {
          start = performance.now();
          await raw.query(query.handCapped);
          c.push(performance.now() - start);
        }
      }
      c.sort((x, y) => x - y);
      a.sort((x, y) => x - y);
      b.sort((x, y) => x - y);
      const ms = (x: number) => `${x.toFixed(x < 100 ? 1 : 0)} ms`;
      console.log(
        `| ${query.table} | ${query.name} | ${ms(quantile(a, 0.5))} | ${ms(quantile(a, 0.99))} | ${ms(quantile(b, 0.5))} | ${ms(quantile(b, 0.99))} | ${(quantile(b, 0.5) / quantile(a, 0.5)).toFixed(2)}× | ${c.length ? `${(quantile(b, 0.5) / quantile(c, 0.5)).toFixed(2)}×` : ''} |`,
      );
    }
  }
  await Promise.all([raw.end(), gate.end()]);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
