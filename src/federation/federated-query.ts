/**
 * Federated SQL: COUNT, SUM and AVG, with or without GROUP BY over public keys, across nodes that
 * each hold one community's rows. Gateway and nodes run the same pure planning here from the same
 * policy version, so a node computes its noise from its own copy of the policy and never takes a
 * noise level from the gateway:
 *
 *  1. `planQuery` exactly as for the pooled commons (role analyst, Gaussian mechanism), so the
 *     rewrite bounds each person's contribution and clamps values the same way;
 *  2. each measurement (a per-group count or sum on its integer grid) becomes one block of a vector
 *     with one coordinate per group of the public domain, empty groups included (so the vector's
 *     shape says nothing about the data);
 *  3. per measurement, the local discrete Gaussian σ² is the least one whose KLS21 ρ, with the noise
 *     of threshold − max_colluding_nodes nodes only, is at most the ρ the central plan charges for
 *     it (distributed-discrete-gaussian.ts); the ledger is charged the planned central cost, an upper
 *     bound;
 *  4. each node clamps every coordinate to ±B (1-Lipschitz per coordinate, so no sensitivity grows;
 *     B is far above any real count or sum and only keeps the decoded sum exact) and adds its noise;
 *  5. after secure aggregation the gateway decodes the noisy sums and post-processes them like a
 *     pooled release, with sub-Gaussian intervals for the summed noise.
 */
import { averageInterval, type HasNoiseInterval } from '../dp/accuracy.ts';
import {
  type DistributedGaussianPlan,
  noiseShare,
  planDistributedGaussian,
  wrapAroundProbability,
} from '../dp/distributed-discrete-gaussian.ts';
import type { PrivacyLoss } from '../dp/privacy-loss.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import { rationalValue } from '../dp/rational.ts';
import type { FederationPolicy, Policy } from '../policy/schema.ts';
import {
  type CellAccuracy,
  CONFIDENCE,
  type OutputValue,
  type PrivateQueryPlan,
  planQuery,
  type ReleasedAnswer,
} from '../sql/index.ts';
import { evaluate, postProcess, type ReleasedGroup } from '../sql/post-process.ts';

export interface FederatedQueryTask {
  readonly kind: 'sql';
  readonly sql: string;
  readonly epsilon: number;
  readonly delta: number;
  /** The policy version both sides must hold. */
  readonly policyVersion: string;
}

export interface FederatedQueryPlan {
  readonly plan: PrivateQueryPlan;
  /** Key values of every group, in vector order. */
  readonly groups: readonly (readonly OutputValue[])[];
  /** Per measurement: its distributed noise. */
  readonly noise: readonly DistributedGaussianPlan[];
  readonly losses: readonly PrivacyLoss[];
  readonly bits: number;
  readonly length: number;
  /** |coordinate| ≤ clampBound before noise, at every node. */
  readonly clampBound: number;
  readonly wrapProbability: number;
}

export class FederatedQueryRefusal extends Error {
  override name = 'FederatedQueryRefusal';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Sums are decoded exactly while |sum| < 2^53; keep the data part well inside that. */
const DECODE_BITS = 53;
const MODULUS_BITS = 64;
/** The most a wrap-around may cost in accuracy (never in privacy: see wrapAroundProbability). */
const MAX_WRAP_PROBABILITY = 1e-12;

export function planFederatedQuery(policy: Policy, task: FederatedQueryTask): FederatedQueryPlan {
  const federation = policy.federation;
  if (!federation) throw new FederatedQueryRefusal('not_federated', 'the policy has no federation section');
  const planned = planQuery({
    sql: task.sql,
    policy,
    role: 'analyst',
    request: { epsilon: task.epsilon, delta: task.delta, mechanism: 'gaussian' },
  });
  if (!planned.ok) throw new FederatedQueryRefusal(planned.refusal.code, planned.refusal.message);
  const { plan } = planned;
  if (plan.kind !== 'private') {
    throw new FederatedQueryRefusal(
      'not_federated',
      'the query reads no node table; ask the gateway directly',
    );
  }
  const offNode = plan.tables.filter((t) => !policy.tables[t]?.public && !federation.tables.includes(t));
  if (offNode.length > 0) {
    throw new FederatedQueryRefusal(
      'unsupported_federated',
      `tables ${offNode.join(', ')} do not live on nodes`,
    );
  }
  if (plan.quantiles.length > 0 || plan.aggregates.some((a) => !['count', 'sum', 'avg'].includes(a.kind))) {
    throw new FederatedQueryRefusal('unsupported_federated', 'federated queries support COUNT, SUM and AVG');
  }
  const groups = enumerateGroups(plan);
  if (groups.length * plan.measurements.length > policy.limits.max_result_cells) {
    throw new FederatedQueryRefusal(
      'too_many_groups',
      'the public domain has more groups than the cell limit',
    );
  }
  const nodes = Object.keys(federation.nodes).length;
  const guaranteedParties = federation.threshold - federation.max_colluding_nodes;
  const noise = plan.measurements.map((m) => {
    if (m.loss.kind !== 'zcdp') throw new Error('a Gaussian plan has zCDP losses');
    return planDistributedGaussian(
      { l2Sensitivity: m.sensitivity.l2, dimension: groups.length, guaranteedParties },
      m.loss.rho,
    );
  });
  const length = groups.length * plan.measurements.length;
  const clampBound = Math.floor(2 ** (DECODE_BITS - 3) / nodes);
  const totalVariance = nodes * Math.max(...noise.map((n) => rationalValue(n.localSigmaSquared)));
  const wrapProbability = wrapAroundProbability({
    bits: DECODE_BITS,
    dimension: length,
    maxAbsData: nodes * clampBound,
    totalVariance,
  });
  if (wrapProbability > MAX_WRAP_PROBABILITY) {
    throw new FederatedQueryRefusal(
      'noise_too_large',
      'the noise this query needs does not fit the sum’s range',
    );
  }
  return {
    plan,
    groups,
    noise,
    losses: noise.map((n) => ({ kind: 'zcdp', rho: n.rho })),
    bits: MODULUS_BITS,
    length,
    clampBound,
    wrapProbability,
  };
}

function enumerateGroups(plan: PrivateQueryPlan): OutputValue[][] {
  const grouping = plan.grouping;
  if (grouping.kind === 'none') return [[]];
  if (grouping.kind === 'selected') {
    throw new FederatedQueryRefusal(
      'unsupported_federated',
      'federated GROUP BY needs keys with a public domain (public_values or public_range)',
    );
  }
  let groups: OutputValue[][] = [[]];
  for (const key of grouping.keys) {
    const domain = key.domain;
    if (domain.kind === 'table') {
      throw new FederatedQueryRefusal('unsupported_federated', 'a key whose domain is a public table');
    }
    if (domain.kind === 'days') {
      throw new FederatedQueryRefusal('unsupported_federated', 'a key over a public range of days');
    }
    const values: OutputValue[] =
      domain.kind === 'values'
        ? [...domain.values]
        : Array.from({ length: domain.to - domain.from + 1 }, (_, i) => domain.from + i);
    groups = groups.flatMap((prefix) => values.map((value) => [...prefix, value]));
  }
  return groups;
}

/**
 * A node's contribution: the true per-group measurements of its own rows (from the rewritten SQL),
 * clamped, plus its noise share. Laid out measurement-major: coordinate m·G + g.
 */
export function nodeContribution(
  federated: FederatedQueryPlan,
  rows: readonly Readonly<Record<string, unknown>>[],
  random: RandomSource = cryptoRandom,
): number[] {
  const { plan, groups } = federated;
  const keyColumns = plan.grouping.kind === 'public' ? plan.grouping.keys.map((k) => k.column) : [];
  const index = new Map(groups.map((g, i) => [JSON.stringify(g), i]));
  const vector = new Array<number>(federated.length).fill(0);
  for (const row of rows) {
    const group = index.get(JSON.stringify(keyColumns.map((c) => normalise(row[c]))));
    if (group === undefined) continue; // outside the public domain: the rewrite never releases it
    plan.measurements.forEach((m, i) => {
      const value = Number(row[m.column] ?? 0);
      if (!Number.isSafeInteger(value)) throw new Error('a measurement is not an integer');
      const at = i * groups.length + group;
      vector[at] = Math.max(-federated.clampBound, Math.min(federated.clampBound, vector[at]! + value));
    });
  }
  federated.noise.forEach((n, i) => {
    const share = noiseShare(n.localSigmaSquared, groups.length, random);
    for (let g = 0; g < groups.length; g++) vector[i * groups.length + g]! += share[g]!;
  });
  return vector;
}

function normalise(value: unknown): OutputValue {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return (value ?? null) as OutputValue;
}

/**
 * Sub-Gaussian interval for a sum of independent discrete Gaussians with total variance v:
 * P(|Z| ≥ h) ≤ 2·exp(−h²/(2v)) (each N_Z(0, σ²) is σ-sub-Gaussian, CKS20), so
 * h = √(2v·ln(2/(1 − confidence))) covers at least `confidence`.
 */
function summedNoiseInterval(variance: number, step: number): HasNoiseInterval {
  return {
    interval: (confidence) => ({
      halfWidth: Math.ceil(Math.sqrt(2 * variance * Math.log(2 / (1 - confidence)))) * step,
      coverage: confidence,
    }),
  };
}

/** The released answer from the decoded noisy sums, with `contributors` nodes' noise in them. */
export function releaseFederated(
  federated: FederatedQueryPlan,
  noisySums: readonly number[],
  contributors: number,
): ReleasedAnswer {
  const { plan, groups } = federated;
  if (noisySums.length !== federated.length) throw new Error('noisy sum has the wrong length');
  const steps = plan.measurements.map((m) => (m.kind === 'sum' ? m.granularity : 1));
  const intervals = federated.noise.map((n, i) =>
    summedNoiseInterval(contributors * rationalValue(n.localSigmaSquared), steps[i]!),
  );
  const released = groups.map((keys, g) => {
    const value = (m: number) => noisySums[m * groups.length + g]! * steps[m]!;
    const cells = plan.aggregates.map((aggregate): { value: number; accuracy: CellAccuracy } => {
      if (aggregate.kind === 'count' || aggregate.kind === 'sum') {
        const m = aggregate.kind === 'count' ? aggregate.count : aggregate.sum;
        const variance = contributors * rationalValue(federated.noise[m]!.localSigmaSquared);
        return {
          value: value(m),
          accuracy: {
            kind: 'noise',
            mechanism: 'discrete_gaussian',
            scale: Math.sqrt(variance) * steps[m]!,
            halfWidth: intervals[m]!.interval(CONFIDENCE).halfWidth,
            confidence: CONFIDENCE,
          },
        };
      }
      if (aggregate.kind !== 'avg') throw new Error('unsupported aggregate');
      const interval = averageInterval({
        noisySum: value(aggregate.sum),
        noisyCount: value(aggregate.count),
        sumMechanism: intervals[aggregate.sum]!,
        countMechanism: intervals[aggregate.count]!,
        bounds: [aggregate.bounds.low, aggregate.bounds.high],
        confidence: CONFIDENCE,
      });
      return {
        value: interval.estimate,
        accuracy: {
          kind: 'interval',
          mechanism: 'discrete_gaussian',
          lower: interval.lower,
          upper: interval.upper,
          confidence: interval.confidence,
          approximate: false,
        },
      };
    });
    return {
      keys,
      aggregates: cells.map((c) => c.value),
      accuracy: cells.map((c) => c.accuracy),
    } satisfies ReleasedGroup & { accuracy: CellAccuracy[] };
  });
  const kept = postProcess(released, plan).slice(0, plan.maxRows);
  return {
    columns: plan.columns.map((c) => c.name),
    rows: kept.map((group) => plan.columns.map((c) => evaluate(c.expr, group))),
    accuracy: kept.map((group) =>
      plan.columns.map((c) => (c.expr.kind === 'aggregate' ? (group.accuracy[c.expr.index] ?? null) : null)),
    ),
  };
}

/** The session parameters gateway and nodes agree on for a federated query. */
export function sessionShape(federation: FederationPolicy, federated: FederatedQueryPlan) {
  return {
    nodes: Object.keys(federation.nodes).sort(),
    threshold: federation.threshold,
    bits: federated.bits,
    length: federated.length,
  };
}
