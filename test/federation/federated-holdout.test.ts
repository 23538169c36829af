/**
 * Held-out evaluation and hyperparameter search of federated jobs, without processes: what they are
 * charged, each node's noise share on the held-out counts (against exact sums on ℤ), and the rules a
 * node keeps for the held-out round. The same jobs over three node processes are in
 * federated-training-job.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { zcdpToEpsilon } from '../../src/dp/accounting/index.ts';
import { distributedRho } from '../../src/dp/distributed-discrete-gaussian.ts';
import { rationalValue } from '../../src/dp/rational.ts';
import { dpSgdTasks } from '../../src/federation/federated-dp-sgd.ts';
import type { SessionSpec } from '../../src/federation/messages.ts';
import { type ResolvedJob, resolveJob } from '../../src/jobs/federated-training.ts';
import { HELD_OUT_DELTA_SHARE, jobCost, TrainingRequestSchema } from '../../src/jobs/training-request.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import { planPrivacy } from '../../src/train/privacy-plan.ts';
import { loadWdbc, WDBC_SCHEMA } from '../fixtures/wdbc.ts';
import { summedShares } from './exact-sums.ts';
import {
  nodeOf,
  WDBC_COMMUNITIES,
  WDBC_REQUEST,
  type WdbcFederation,
  wdbcFederation,
} from './wdbc-federation.ts';

const plan = async (setting: Parameters<typeof planPrivacy>[0]) => planPrivacy(setting);
const HOLDOUT = { fraction: 0.2, epsilon: 0.5 };
const CANDIDATES = [
  { model: { kind: 'logistic' } },
  { model: { kind: 'logistic' }, optimizer: { kind: 'sgd', learning_rate: 0.5 } },
  { model: { kind: 'mlp', hidden: [4] } },
];

let federation: WdbcFederation;
const resolve = (request: Record<string, unknown>) =>
  resolveJob(
    federation.snapshot.policy,
    'analyst',
    TrainingRequestSchema.parse({ ...WDBC_REQUEST, ...request }),
    {
      plan,
    },
  );

beforeAll(async () => {
  federation = await wdbcFederation({ threshold: 2 });
});

const ZEROS = Buffer.from(new Float64Array(31).buffer).toString('base64url');
const session = (task: Record<string, unknown>, bits: number, length: number): SessionSpec => ({
  protocol: 'dpgate-secagg/1',
  nodes: WDBC_COMMUNITIES.map(nodeOf),
  threshold: 2,
  bits,
  length,
  nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
  task: { jobId: 'job', job: { id: 1 }, ...task },
});

/** Rényi divergence of order α between the law `pmf` shifted by `shift` and `pmf` itself. */
function shiftedDivergence(pmf: Float64Array, shift: number, order: number): number {
  let sum = 0;
  for (let i = Math.max(0, shift); i < pmf.length; i++) {
    const p = pmf[i]!;
    if (p < 1e-300) continue;
    sum += p * (pmf[i - shift]! / p) ** order;
  }
  return Math.log(sum) / (order - 1);
}

describe('federated held-out evaluation and search', () => {
  let holdout: ResolvedJob;
  let search: ResolvedJob;
  beforeAll(async () => {
    holdout = await resolve({ steps: 20, holdout: HOLDOUT });
    search = await resolve({ steps: 20, holdout: HOLDOUT, candidates: CANDIDATES });
  });

  it('charges training at the δ left and the held-out counts as ρ stated at their share of δ', () => {
    for (const job of [holdout, search]) {
      const cost = jobCost(job);
      const share = 1e-5 * HELD_OUT_DELTA_SHARE;
      expect(job.plan.delta).toBeCloseTo(1e-5 - share, 18);
      expect(cost.delta).toBeCloseTo(1e-5, 18);
      const { loss, stated } = job.holdout!;
      expect(loss.kind).toBe('zcdp');
      expect(stated).toEqual({ epsilon: zcdpToEpsilon((loss as { rho: number }).rho, share), delta: share });
      expect(stated.epsilon).toBeLessThanOrEqual(HOLDOUT.epsilon);
      expect(stated.epsilon).toBeGreaterThan(HOLDOUT.epsilon * 0.999);
      expect(cost.epsilon).toBe(job.plan.epsilon + stated.epsilon);
      expect(cost.held_out!.epsilon).toBeCloseTo(stated.epsilon, 12);
    }
    // A search prices k·T steps of the shared (q, σ) and the k scores as one vector.
    expect(search.plan.steps).toBe(3 * 20);
    expect(search.federation!.runs.map((run) => run.spec.steps)).toEqual([20, 20, 20]);
    expect(search.federation!.runs.map((run) => run.plan.privacy)).toEqual([
      search.plan,
      search.plan,
      search.plan,
    ]);
    expect(jobCost(search).selection!.epsilon).toBe(jobCost(search).epsilon);
    expect(search.federation!.heldOut!.length).toBe(3);
    expect(holdout.federation!.heldOut!.length).toBe(2);
  });

  it('sizes each node’s share so the guaranteed nodes’ shares alone carry the ρ charged', () => {
    for (const job of [holdout, search]) {
      const { noise, length } = job.federation!.heldOut!;
      const charged = (job.holdout!.loss as { rho: number }).rho;
      const local = rationalValue(noise.localSigmaSquared);
      // t − f = 2 guaranteed nodes; one person moves the vector by at most m√L (m = 1 row here).
      expect(noise.guaranteedParties).toBe(2);
      expect(noise.l2Sensitivity).toBeGreaterThanOrEqual(Math.sqrt(length));
      expect(distributedRho(noise, local)).toBeLessThanOrEqual(charged);
      expect(noise.rho).toBeLessThanOrEqual(charged);
      // The two shares alone have at least the variance one central discrete Gaussian needs at ρ.
      expect(2 * local).toBeGreaterThanOrEqual(length / (2 * charged));
      // Exact: the sum of the two shares, shifted by one person (each coordinate by ≤ 1), has Rényi
      // divergence at most α·ρ at every order (coordinates are independent: divergences add).
      const reach = Math.ceil(40 * Math.sqrt(local));
      const pmf = summedShares(local, 2, reach);
      for (const order of [1.5, 2, 4, 16, 64]) {
        const exact = length * shiftedDivergence(pmf, 1, order);
        expect(exact).toBeLessThanOrEqual(order * charged * (1 + 1e-9));
        expect(exact).toBeGreaterThan(order * charged * 0.99);
      }
    }
  });

  it('standardises from the nodes’ noisy sums, each ρ part at its own share of δ', async () => {
    const job = await resolve({ steps: 20, holdout: HOLDOUT, standardise: { epsilon: 0.5 } });
    const cost = jobCost(job);
    const share = 1e-5 * HELD_OUT_DELTA_SHARE;
    expect(job.plan.delta).toBeCloseTo(1e-5 - 2 * share, 18);
    expect(cost.delta).toBeCloseTo(1e-5, 18);
    expect(cost.standardisation).toMatchObject({ delta: share, rho: job.standardise!.loss.rho });
    expect(cost.epsilon).toBeCloseTo(
      job.plan.epsilon + job.standardise!.epsilon + job.holdout!.stated.epsilon,
      12,
    );
    // The sums' shares: the two guaranteed nodes alone carry the pooled estimate's ρ.
    const plan = job.federation!.standardise!;
    expect(plan.length).toBe(2 * 30 + 1);
    expect(distributedRho(plan.noise, rationalValue(plan.noise.localSigmaSquared))).toBeLessThanOrEqual(
      job.standardise!.loss.rho,
    );
    await expect(resolve({ population_epsilon: 0.5 })).rejects.toThrow(/population_epsilon is not federated/);

    // A node answers the standardisation round once; then every step and the held-out round must
    // carry a released standardisation of the right shape.
    const rows = loadWdbc('train').slice(0, 90);
    const node = dpSgdTasks({
      load: async () => ({
        runs: job.federation!.runs.map((run) => run.spec),
        privacy: job.plan,
        dataset: buildTrainingDataset({ rows: rows.slice(0, 72), schema: WDBC_SCHEMA }),
        heldOut: {
          dataset: buildTrainingDataset({ rows: rows.slice(72), schema: WDBC_SCHEMA }),
          plan: job.federation!.heldOut!,
        },
        standardise: plan,
      }),
      shape: job.federation!.shape,
      maxEpsilonPerJob: 5,
      maxDeltaPerJob: 1e-5,
    });
    const round = session({ kind: 'standardise' }, plan.bits, plan.length);
    await node.accept(round);
    await expect(node.accept(round)).rejects.toThrow(/already answered/);
    expect((await node.input(round)).toSignedIntegers()).toHaveLength(61);
    const bits = job.federation!.runs[0]!.plan.bits;
    await expect(
      node.accept(session({ kind: 'dp-sgd', step: 1, parameters: ZEROS }, bits, 31)),
    ).rejects.toThrow(/no valid standardisation/);
    const wide = { mean: Array(30).fill(0), spread: Array(30).fill(0.01) };
    await expect(
      node.accept(session({ kind: 'dp-sgd', step: 1, parameters: ZEROS, standardisation: wide }, bits, 31)),
    ).rejects.toThrow(/no valid standardisation/);
    const released = { mean: Array(30).fill(0), spread: Array(30).fill(0.5) };
    await node.accept(
      session({ kind: 'dp-sgd', step: 1, parameters: ZEROS, standardisation: released }, bits, 31),
    );
    const heldOut = job.federation!.heldOut!;
    // Its held-out persons were drawn at the standardisation round, before any step: it answers.
    await node.accept(
      session({ kind: 'held-out', parameters: [ZEROS], standardisation: released }, heldOut.bits, 2),
    );
  });

  it('a node answers the held-out round once, only with persons it held out before its first step', async () => {
    const rows = loadWdbc('train').slice(0, 90);
    const dataset = buildTrainingDataset({ rows: rows.slice(0, 72), schema: WDBC_SCHEMA });
    const heldOut = buildTrainingDataset({ rows: rows.slice(72), schema: WDBC_SCHEMA });
    const job = holdout.federation!;
    const tasks = () =>
      dpSgdTasks({
        load: async () => ({
          runs: job.runs.map((run) => run.spec),
          privacy: holdout.plan,
          dataset,
          heldOut: { dataset: heldOut, plan: job.heldOut! },
        }),
        shape: job.shape,
        maxEpsilonPerJob: 5,
        maxDeltaPerJob: 1e-5,
      });
    const step = (n: number) =>
      session({ kind: 'dp-sgd', step: n, parameters: ZEROS }, job.runs[0]!.plan.bits, 31);
    const evaluation = session({ kind: 'held-out', parameters: [ZEROS] }, job.heldOut!.bits, 2);

    const node = tasks();
    await expect(node.accept(evaluation)).rejects.toThrow(/holds no held-out persons/);
    await node.accept(step(1));
    await node.accept(evaluation);
    await expect(node.accept(evaluation)).rejects.toThrow(/already answered/);
    const noisy = (await node.input(evaluation)).toSignedIntegers();
    expect(noisy).toHaveLength(2);
    // The rows' count plus the summed noise of one node: far within ±40 local σ.
    expect(Math.abs(noisy[1]! - heldOut.rowCount)).toBeLessThan(
      40 * Math.sqrt(rationalValue(job.heldOut!.noise.localSigmaSquared)),
    );
    await expect(
      node.accept(session({ kind: 'held-out', parameters: [] }, job.heldOut!.bits, 2)),
    ).rejects.toThrow(/holds no held-out persons|already answered/);

    // A node that first loads the job later (restarted, or joined late) sits the held-out round out.
    const late = tasks();
    await late.accept(step(5));
    await expect(late.accept(evaluation)).rejects.toThrow(/holds no held-out persons/);
    // And the round's shape must be the planned one.
    const other = tasks();
    await other.accept(step(1));
    await expect(other.accept({ ...evaluation, length: 3 })).rejects.toThrow(/session shape/);
  });
});
