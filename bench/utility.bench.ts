// Utility: relative error against ε of dpgate's released COUNT, SUM, AVG and GROUP BY over the demo
// commons, next to the error SmartNoise SQL's default mechanisms give the same queries at the same
// total ε. dpgate's side is measured end to end (planQuery, the rewritten SQL on PGlite, release with
// the crypto RNG); SmartNoise's side applies its published noise scales (docs/benchmarks.md) to the
// same true values. Run: npx tsx bench/utility.bench.ts (or npm run bench -- utility)
import { CompiledQuery } from 'kysely';
import { openDatabase } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrate.ts';
import { loadDemoCommons } from '../src/demo/load-demo.ts';
import { zcdpBudget } from '../src/dp/accounting/index.ts';
import { gaussianSigmaForRho, laplaceScaleForEpsilon } from '../src/dp/calibration.ts';
import { discreteGaussian } from '../src/dp/discrete-gaussian.ts';
import { discreteLaplace } from '../src/dp/discrete-laplace.ts';
import type { NoiseDistribution } from '../src/dp/distributions.ts';
import { optimalPartitionSelector } from '../src/dp/optimal-partition-selection.ts';
import { cryptoRandom } from '../src/dp/random.ts';
import { rationalAtLeast } from '../src/dp/rational.ts';
import { sampleDiscreteLaplace } from '../src/dp/samplers.ts';
import { planQuery, type QueryPlan, release } from '../src/sql/index.ts';
import { mechanismFor } from '../src/sql/noise.ts';
import { loadDemoPolicy } from '../test/sql/demo-policy.ts';

const TRIALS = 2000;
const EPSILONS = [0.05, 0.1, 0.3, 1];
const DELTA = 1e-7;

/** One noisy quantity of SmartNoise's rewritten subquery: a count (sensitivity 1) or a clamped sum. */
interface SmartNoiseColumn {
  readonly sql: string;
  /** max(|lower|, |upper|) of the summed column; 1 for a count. */
  readonly sensitivity: number;
}

interface UtilityQuery {
  readonly name: string;
  readonly sql: string;
  /** GROUP BY column of `people`, when the query has one. */
  readonly groupBy?: string;
  /** The quantities SmartNoise's rewrite measures (its keycount comes on top), and its answer from them. */
  readonly smartnoise: readonly SmartNoiseColumn[];
  readonly combine: (values: readonly number[]) => number;
}

const COUNT: SmartNoiseColumn = { sql: 'count(*)', sensitivity: 1 };
const SUM_AGE: SmartNoiseColumn = { sql: 'sum(least(greatest(age, 0), 100))', sensitivity: 100 };
const SUM_INCOME: SmartNoiseColumn = { sql: 'sum(least(greatest(income, 0), 500000))', sensitivity: 500000 };
const first = (values: readonly number[]) => values[0]!;
const ratio = (values: readonly number[]) => values[0]! / values[1]!;

const QUERIES: readonly UtilityQuery[] = [
  { name: 'COUNT(*)', sql: 'SELECT COUNT(*) FROM people', smartnoise: [COUNT], combine: first },
  { name: 'SUM(age)', sql: 'SELECT SUM(age) FROM people', smartnoise: [SUM_AGE], combine: first },
  { name: 'SUM(income)', sql: 'SELECT SUM(income) FROM people', smartnoise: [SUM_INCOME], combine: first },
  { name: 'AVG(age)', sql: 'SELECT AVG(age) FROM people', smartnoise: [SUM_AGE, COUNT], combine: ratio },
  {
    name: 'AVG(income)',
    sql: 'SELECT AVG(income) FROM people',
    smartnoise: [SUM_INCOME, COUNT],
    combine: ratio,
  },
  {
    name: 'COUNT(*) GROUP BY educ',
    sql: 'SELECT educ, COUNT(*) FROM people GROUP BY educ',
    groupBy: 'educ',
    smartnoise: [COUNT],
    combine: first,
  },
  {
    name: 'AVG(age) GROUP BY sex',
    sql: 'SELECT sex, AVG(age) FROM people GROUP BY sex',
    groupBy: 'sex',
    smartnoise: [SUM_AGE, COUNT],
    combine: ratio,
  },
];

const handle = await openDatabase({ dataDir: 'memory://' });
await migrate(handle);
await loadDemoCommons(handle.db);
const policy = await loadDemoPolicy();

async function rows(text: string, parameters: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
  const result = await handle.db.executeQuery(CompiledQuery.raw(text, [...parameters]));
  return result.rows as Record<string, unknown>[];
}

/** Per group key ('' without GROUP BY): the true quantities SmartNoise measures, in column order. */
async function truths(query: UtilityQuery): Promise<Map<string, number[]>> {
  const key = query.groupBy ?? "''";
  const columns = query.smartnoise.map((c, i) => `${c.sql} AS q${i}`).join(', ');
  const result = await rows(`SELECT ${key} AS k, ${columns} FROM commons.people GROUP BY 1`);
  return new Map(result.map((r) => [String(r.k), query.smartnoise.map((_, i) => Number(r[`q${i}`]))]));
}

const noise = (scale: number): number => sampleDiscreteLaplace(cryptoRandom, rationalAtLeast(scale));

/**
 * One SmartNoise answer per group at total ε (undefined: the group is suppressed). Every measured
 * column and the keycount get ε/m (m mechanisms, basic composition, which its odometer uses for so few);
 * max_ids = 1 (one row per person in `people`); a sum's sensitivity is max(|lower|, |upper|).
 */
function smartnoiseAnswer(query: UtilityQuery, truth: readonly number[], keycount: number, epsilon: number) {
  const perColumn = epsilon / (query.smartnoise.length + 1);
  const threshold = 1 - Math.log(2 * DELTA) / perColumn;
  if (keycount + noise(1 / perColumn) <= threshold) return undefined;
  const noisy = query.smartnoise.map((column, i) => truth[i]! + noise(column.sensitivity / perColumn));
  return query.combine(noisy);
}

function dpgateAnswers(query: UtilityQuery, plan: QueryPlan, planRows: readonly Record<string, unknown>[]) {
  const answer = release(plan, planRows, { random: cryptoRandom });
  const answers = new Map<string, number>();
  for (const row of answer.rows) {
    if (query.groupBy) answers.set(String(row[0]), Number(row[1]));
    else answers.set('', Number(row[0]));
  }
  return answers;
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const percent = (x: number): string => `${100 * x >= 10 ? (100 * x).toFixed(0) : (100 * x).toPrecision(2)}%`;

console.log(
  `node ${process.version}; demo commons (1,000 people); ${TRIALS} releases per cell; δ = ${DELTA} where used`,
);
console.log(
  '| query | ε | dpgate median | dpgate p90 | SmartNoise median | SmartNoise p90 | SmartNoise groups suppressed |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const query of QUERIES) {
  const truth = await truths(query);
  const exact = new Map([...truth].map(([k, values]) => [k, query.combine(values)]));
  const keycounts = new Map(
    (await rows(`SELECT ${query.groupBy ?? "''"} AS k, count(*) AS n FROM commons.people GROUP BY 1`)).map(
      (r) => [String(r.k), Number(r.n)],
    ),
  );
  for (const epsilon of EPSILONS) {
    const planned = planQuery({
      sql: query.sql,
      policy,
      role: 'analyst',
      request: { epsilon, delta: DELTA },
    });
    if (!planned.ok) throw new Error(`${query.sql}: ${planned.refusal.message}`);
    const planRows = await rows(planned.plan.sql.text, planned.plan.sql.parameters);
    const ours: number[] = [];
    const theirs: number[] = [];
    let suppressed = 0;
    // Interleaved: one dpgate release, then one SmartNoise release, per trial.
    for (let trial = 0; trial < TRIALS; trial++) {
      const answers = dpgateAnswers(query, planned.plan, planRows);
      for (const [key, value] of exact) {
        // A group the system does not release counts as answered 0: relative error 1.
        ours.push(Math.abs((answers.get(key) ?? 0) - value) / Math.abs(value));
        const released = smartnoiseAnswer(query, truth.get(key)!, keycounts.get(key)!, epsilon);
        if (released === undefined) suppressed++;
        theirs.push(Math.abs((released ?? 0) - value) / Math.abs(value));
      }
    }
    ours.sort((a, b) => a - b);
    theirs.sort((a, b) => a - b);
    console.log(
      `| ${query.name} | ${epsilon} | ${percent(quantile(ours, 0.5))} | ${percent(quantile(ours, 0.9))} | ` +
        `${percent(quantile(theirs, 0.5))} | ${percent(quantile(theirs, 0.9))} | ` +
        `${percent(suppressed / (TRIALS * exact.size))} |`,
    );
  }
}
// Partition selection of a GROUP BY without a public domain (`age / 5`): the expected share of the
// groups released and the least group size kept with probability ≥ 1/2, from the keep probabilities
// themselves (no sampling): this plan, the plan before (thresholding at half the budget, δ halved
// under gaussian) and SmartNoise (its keycount threshold at ε/2, m = 2).
const AGE_SQL = 'SELECT age / 5, COUNT(*) FROM people GROUP BY age / 5';
const ageGroups = (
  await rows('SELECT count(DISTINCT person_id) AS n FROM commons.people GROUP BY age / 5')
).map((r) => Number(r.n));
const SHAVE = 1 - 2 ** -20;

/** Keep probability of a group of n persons under thresholding: P(Z ≥ τ − n). */
const thresholdKeep = (distribution: NoiseDistribution, threshold: number) => (n: number) =>
  distribution.upperTail(threshold - n);

/** The old plan's selection: the counts at half the budget (of ε, or of ρ converted at δ/2). */
function oldSelection(mechanism: 'laplace' | 'gaussian', epsilon: number) {
  const noise =
    mechanism === 'laplace'
      ? discreteLaplace({ scale: laplaceScaleForEpsilon({ epsilon: (epsilon / 2) * SHAVE, sensitivity: 1 }) })
      : discreteGaussian({
          sigma: gaussianSigmaForRho({ rho: (zcdpBudget(epsilon, DELTA / 2) / 2) * SHAVE, sensitivity: 1 }),
        });
  const selector = noise.partitionSelector({
    delta: mechanism === 'laplace' ? DELTA : DELTA / 2,
    maxGroupsPerUnit: 1,
  });
  return { median: selector.threshold, keep: thresholdKeep(noise.distribution, selector.threshold) };
}

function newSelection(plan: QueryPlan) {
  if (plan.kind !== 'private' || plan.grouping.kind !== 'selected')
    throw new Error('expected partition selection');
  const selection = plan.grouping.selection;
  if (selection.kind === 'optimal') {
    const selector = optimalPartitionSelector({
      epsilon: selection.epsilon,
      delta: selection.delta,
      maxGroupsPerUnit: 1,
    });
    return {
      name: 'optimal',
      median: selection.medianCount,
      keep: (n: number) => selector.keepProbability(n),
    };
  }
  const distribution = mechanismFor(selection.noise).distribution;
  return {
    name: 'threshold',
    median: selection.threshold,
    keep: thresholdKeep(distribution, selection.threshold),
  };
}

/** SmartNoise: kept when n + Laplace(b) > τ, b = 1/(ε/2), τ = 1 − ln(2δ)/(ε/2). */
function smartnoiseSelection(epsilon: number) {
  const b = 2 / epsilon;
  const threshold = 1 - Math.log(2 * DELTA) * b;
  const keep = (n: number) =>
    n > threshold ? 1 - Math.exp(-(n - threshold) / b) / 2 : Math.exp(-(threshold - n) / b) / 2;
  return { median: Math.ceil(threshold), keep };
}

const share = (keep: (n: number) => number) =>
  ageGroups.reduce((sum, n) => sum + keep(n), 0) / ageGroups.length;
console.log(
  `\n${AGE_SQL}: ${ageGroups.length} groups, median ${quantile(
    [...ageGroups].sort((a, b) => a - b),
    0.5,
  )} persons; δ = ${DELTA}`,
);
console.log(
  '| mechanism | ε | selection now | kept half the time at (before → now; SmartNoise) | groups released (before → now; SmartNoise) |',
);
console.log('|---|---:|---|---:|---:|');
for (const mechanism of ['laplace', 'gaussian'] as const) {
  for (const epsilon of EPSILONS) {
    const planned = planQuery({
      sql: AGE_SQL,
      policy,
      role: 'analyst',
      request: { epsilon, delta: DELTA, mechanism },
    });
    if (!planned.ok) throw new Error(`${AGE_SQL}: ${planned.refusal.message}`);
    const [before, now, theirs] = [
      oldSelection(mechanism, epsilon),
      newSelection(planned.plan),
      smartnoiseSelection(epsilon),
    ];
    console.log(
      `| ${mechanism} | ${epsilon} | ${now.name} | ${before.median} → ${now.median}; ${theirs.median} | ` +
        `${percent(share(before.keep))} → ${percent(share(now.keep))}; ${percent(share(theirs.keep))} |`,
    );
  }
}

// Persons in several groups (k = 3, 5): survey_responses re-made so each person has 1–6 responses,
// each at an age drawn skewed towards the young (u² on [0, 100)), so `age / 5` has groups of a few
// dozen to several hundred persons and a person is in up to 6 of them (bounding keeps k). The keep
// probability of each group from the true per-group rows of the rewritten SQL (the L0 selection key
// fixed at 0), no sampling. Run on the commit before this change too, for the "before" column.
await rows('DELETE FROM commons.survey_responses');
await rows(
  `INSERT INTO commons.survey_responses (response_id, person_id, age, sex, educ, race, income, married)
   SELECT row_number() OVER (), p.person_id,
          floor(100 * ((abs(hashtext(p.person_id::text || ':' || i)) % 10000) / 10000.0) ^ 2)::int,
          p.sex, p.educ, p.race, p.income, p.married
   FROM commons.people p, generate_series(1, 1 + abs(hashtext(p.person_id::text)) % 6) AS i`,
);
const SPREAD_SQL = 'SELECT age / 5, COUNT(*) FROM survey_responses GROUP BY age / 5';
const spreadGroups = await rows(
  'SELECT age / 5 AS g, count(DISTINCT person_id) AS n FROM commons.survey_responses GROUP BY 1',
);
const perPerson = await rows(
  'SELECT count(DISTINCT age / 5) AS j FROM commons.survey_responses GROUP BY person_id',
);
console.log(
  `\n${SPREAD_SQL}: ${spreadGroups.length} groups of ${Math.min(...spreadGroups.map((r) => Number(r.n)))}–${Math.max(
    ...spreadGroups.map((r) => Number(r.n)),
  )} persons; a person is in ${perPerson.reduce((sum, r) => sum + Number(r.j), 0) / perPerson.length} groups on average (at most ${Math.max(
    ...perPerson.map((r) => Number(r.j)),
  )}); δ = ${DELTA}`,
);

/** The keep probability of one group row of the rewritten SQL under the plan's selection. */
function groupKeep(plan: QueryPlan): (row: Record<string, unknown>) => number {
  if (plan.kind !== 'private' || plan.grouping.kind !== 'selected')
    throw new Error('expected partition selection');
  const { selection, unitsColumn } = plan.grouping;
  const k = plan.contribution.maxGroupsPerUnit;
  switch (selection.kind) {
    case 'optimal': {
      const selector = optimalPartitionSelector({
        epsilon: selection.epsilon,
        delta: selection.delta,
        maxGroupsPerUnit: k,
      });
      return (row) => selector.keepProbability(Number(row[unitsColumn]));
    }
    case 'threshold': {
      const distribution = mechanismFor(selection.noise).distribution;
      return (row) => distribution.upperTail(selection.threshold - Number(row[unitsColumn]));
    }
    case 'weighted_gaussian': {
      const distribution = mechanismFor(selection.noise).distribution;
      return (row) => distribution.upperTail(selection.threshold - Number(row[selection.column]));
    }
  }
}

/** The half-kept group size: one figure, or one per number of groups each person is in. */
function halfKept(plan: QueryPlan): string {
  if (plan.kind !== 'private' || plan.grouping.kind !== 'selected') return '';
  const selection = plan.grouping.selection;
  if (selection.kind === 'weighted_gaussian') return selection.medianCounts.join('/');
  return String(selection.kind === 'optimal' ? selection.medianCount : selection.threshold);
}

console.log(
  '| k | mechanism | ε | selection | kept half the time at (persons, each in 1/…/k groups) | groups released |',
);
console.log('|---:|---|---:|---|---:|---:|');
for (const k of [3, 5]) {
  const spread = structuredClone(policy);
  spread.tables.survey_responses!.contributions = {
    ...spread.tables.survey_responses!.contributions!,
    max_groups_per_unit: k,
  };
  for (const mechanism of ['laplace', 'gaussian'] as const) {
    for (const epsilon of EPSILONS) {
      const planned = planQuery({
        sql: SPREAD_SQL,
        policy: spread,
        role: 'analyst',
        request: { epsilon, delta: DELTA, mechanism },
      });
      if (!planned.ok) throw new Error(`${SPREAD_SQL}: ${planned.refusal.message}`);
      const groupRows = await rows(planned.plan.sql.text, planned.plan.sql.parameters);
      const keep = groupKeep(planned.plan);
      const released = groupRows.reduce((sum, row) => sum + keep(row), 0) / groupRows.length;
      const kind =
        planned.plan.kind === 'private' && planned.plan.grouping.kind === 'selected'
          ? planned.plan.grouping.selection.kind
          : '';
      console.log(
        `| ${k} | ${mechanism} | ${epsilon} | ${kind} | ${halfKept(planned.plan)} | ${percent(released)} |`,
      );
    }
  }
}
await handle.close();
