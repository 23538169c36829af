// Time to plan one query (parse + analyze + cost + rewrite + re-parse check) over the SQL corpus,
// and the share of it spent in the parser alone; then a thresholded GROUP BY under gaussian with
// persons in k = 3 groups, at an (ε, δ) not seen before (the selection search runs) and at one seen
// before (its result is reused); and fresh queries of one shape, a new literal each time. Run: npx tsx bench/sql.bench.ts (or npm run bench -- sql)
import { planQuery } from '../src/sql/index.ts';
import { parseStatements } from '../src/sql/parse.ts';
import { ACCEPTED, REFUSED } from '../test/sql/corpus.ts';
import { loadDemoPolicy, withHiddenColumn } from '../test/sql/demo-policy.ts';

const WARM_UP_ROUNDS = 20;
const MEASURED_ROUNDS = 100;

const policy = await loadDemoPolicy();
const hidden = withHiddenColumn(policy);
const cases = [
  ...ACCEPTED.map((c) => ({ sql: c.sql, policy, role: 'analyst' as const, accepted: true })),
  ...REFUSED.map((c) => ({
    sql: c.sql,
    policy: c.hidden ? hidden : policy,
    role: c.role ?? ('analyst' as const),
    accepted: false,
  })),
];

function timings(run: (c: (typeof cases)[number]) => unknown, subset: typeof cases): number[] {
  for (let round = 0; round < WARM_UP_ROUNDS; round++) for (const c of subset) run(c);
  const samples: number[] = [];
  for (let round = 0; round < MEASURED_ROUNDS; round++) {
    for (const c of subset) {
      const start = performance.now();
      run(c);
      samples.push(performance.now() - start);
    }
  }
  return samples.sort((a, b) => a - b);
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const format = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;

const plan = (c: (typeof cases)[number]) =>
  planQuery({ sql: c.sql, policy: c.policy, role: c.role, request: { epsilon: 1, delta: 1e-7 } });
const rows: [string, number, number[]][] = [
  [
    'planQuery, accepted queries',
    cases.filter((c) => c.accepted).length,
    timings(
      plan,
      cases.filter((c) => c.accepted),
    ),
  ],
  [
    'planQuery, refused queries',
    cases.filter((c) => !c.accepted).length,
    timings(
      plan,
      cases.filter((c) => !c.accepted),
    ),
  ],
  [
    'parser alone, accepted queries',
    cases.filter((c) => c.accepted).length,
    timings(
      (c) => parseStatements(c.sql),
      cases.filter((c) => c.accepted),
    ),
  ],
];

// Persons in up to 3 groups: the search weighs thresholding, the optimal keep function and the
// weighted Gaussian over three δ splits. A fresh ε per call misses every cache the search has.
const byAge = 'SELECT age, COUNT(*), AVG(age) FROM survey_responses GROUP BY age';
const spread = structuredClone(policy);
spread.tables.survey_responses!.contributions = {
  ...spread.tables.survey_responses!.contributions!,
  max_groups_per_unit: 3,
};
const selected = (epsilon: number) => {
  const result = planQuery({
    sql: byAge,
    policy: spread,
    role: 'analyst',
    request: { epsilon, delta: 1e-7, mechanism: 'gaussian' },
  });
  if (!result.ok) throw new Error(`${byAge}: ${result.refusal.message}`);
};
let fresh = 0;
const selectionRows: [string, number, number[]][] = [
  [
    'GROUP BY age, gaussian, k = 3, (ε, δ) new',
    1,
    timings(() => selected(0.5 + ++fresh * 1e-9), cases.slice(0, 1)),
  ],
  ['GROUP BY age, gaussian, k = 3, (ε, δ) seen', 1, timings(() => selected(0.5), cases.slice(0, 1))],
];
rows.push(...selectionRows);

// Fresh queries of one shape, as analysts send them: a new literal each time, so nothing of the
// analyst's text repeats, while the rewritten SQL (its literals are parameters) does.
let literal = 0;
const tenTimes = Array.from({ length: 10 }, () => cases[0]!);
const oneShape = (sql: (n: number) => string) => () => {
  const result = planQuery({ sql: sql(++literal), policy, role: 'analyst', request: { epsilon: 1 } });
  if (!result.ok) throw new Error(result.refusal.message);
};
rows.push(
  [
    'COUNT … WHERE age > n, a new n each time',
    1,
    timings(
      oneShape((n) => `SELECT COUNT(*) FROM people WHERE age > ${-n}`),
      tenTimes,
    ),
  ],
  [
    'GROUP BY educ … WHERE age > n, a new n each time',
    1,
    timings(
      oneShape((n) => `SELECT educ, COUNT(*) FROM people WHERE age > ${-n} GROUP BY educ`),
      tenTimes,
    ),
  ],
);

console.log(
  `node ${process.version}; ${MEASURED_ROUNDS} rounds over the corpus after ${WARM_UP_ROUNDS} warm-up rounds`,
);
console.log('| what | queries | p50 | p90 | p99 | max |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, count, sorted] of rows) {
  console.log(
    `| ${name} | ${count} | ${[0.5, 0.9, 0.99, 1].map((q) => format(quantile(sorted, q))).join(' | ')} |`,
  );
}
