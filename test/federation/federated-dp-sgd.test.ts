import { describe, expect, it } from 'vitest';
import { generateSigningPair } from '../../src/federation/crypto.ts';
import {
  dpSgdTasks,
  planFederatedDpSgd,
  trainFederatedDpSgd,
} from '../../src/federation/federated-dp-sgd.ts';
import { SecAggNode } from '../../src/federation/secagg-node.ts';
import { InProcessTransport } from '../../src/federation/transport.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import type { TrainedModel } from '../../src/train/model-card.ts';
import { predict } from '../../src/train/predict.ts';
import { trainDpSgd } from '../../src/train/train-dp-sgd.ts';
import { loadWdbc, WDBC_LOGISTIC, WDBC_SCHEMA } from '../fixtures/wdbc.ts';
import { seededRandom } from '../support/seeded-random.ts';

const train = loadWdbc('train');
const test = loadWdbc('test');
const COMMUNITIES = ['node_hillcrest', 'node_lakeside', 'node_riverside'];
const SEEDS = [1, 2, 3, 4, 5];

function accuracy(model: TrainedModel): number {
  const predictions = predict(model, test);
  return predictions.filter((p, i) => p.kind === 'binary' && p.label === test[i]!.label).length / test.length;
}

/** wdbc's training rows split three ways, one share per community node. */
function nodeDatasets(seed: number) {
  return COMMUNITIES.map((_, k) =>
    buildTrainingDataset({
      rows: train.filter((_, i) => i % 3 === k),
      schema: WDBC_SCHEMA,
      random: seededRandom(seed * 10 + k),
    }),
  );
}

async function federatedRun(seed: number, threshold: number) {
  const shape = { nodes: 3, threshold, maxColludingNodes: 0 };
  const gateway = await generateSigningPair();
  const keys = await Promise.all(COMMUNITIES.map(() => generateSigningPair()));
  const nodeKeys = Object.fromEntries(COMMUNITIES.map((id, i) => [id, keys[i]!.publicKey]));
  const directory = {
    gatewayId: 'gateway',
    gatewayKey: gateway.publicKey,
    nodeKeys,
    minimumThreshold: threshold,
  };
  const datasets = nodeDatasets(seed);
  const handlers = new Map(
    COMMUNITIES.map((id, i) => [
      id,
      new SecAggNode(
        id,
        keys[i]!.privateKey,
        directory,
        dpSgdTasks({ dataset: () => datasets[i]!, shape, maxEpsilonPerJob: 5, maxDeltaPerJob: 1e-5 }),
      ),
    ]),
  );
  const events: string[] = [];
  const transport = new InProcessTransport(handlers);
  const call = transport.call.bind(transport);
  transport.call = (node, message, timeout) => {
    if (events.at(-1) !== 'round') events.push('round');
    return call(node, message, timeout);
  };
  const model = await trainFederatedDpSgd({
    spec: WDBC_LOGISTIC,
    schema: WDBC_SCHEMA,
    jobId: `job-${seed}`,
    nodes: COMMUNITIES,
    shape,
    aggregation: { transport, identity: { id: 'gateway', signingKey: gateway.privateKey, nodeKeys } },
    beforeFirstRound: async () => {
      events.push('charged');
    },
    random: seededRandom(seed),
  });
  return { model, events };
}

describe('federated DP-SGD on wdbc split across three community nodes', () => {
  it('charges the pooled ε for the same σ: the noise of t − f nodes carries the full variance', () => {
    const plan = planFederatedDpSgd(WDBC_LOGISTIC, 31, { nodes: 3, threshold: 2, maxColludingNodes: 0 });
    const pooled = trainDpSgd(
      { ...WDBC_LOGISTIC, steps: 1 },
      buildTrainingDataset({ rows: train.slice(0, 10), schema: WDBC_SCHEMA }),
    );
    expect(plan.tau).toBe(0);
    expect(plan.sigmaEffective).toBe(plan.privacy.sigma);
    expect(plan.epsilon).toBeLessThanOrEqual(3);
    expect(plan.epsilon).toBeCloseTo(3, 3);
    // Two nodes' shares (threshold 2) sum to the pooled noise variance σ_grid².
    const sigmaGrid = plan.privacy.sigma * plan.grid.sensitivityInSteps;
    expect(
      2 * (plan.localSigmaSquared.numerator / plan.localSigmaSquared.denominator),
    ).toBeGreaterThanOrEqual(sigmaGrid ** 2);
    expect(pooled.plan.sigma).toBeGreaterThan(0);
  });

  it('trains to test accuracy within 0.01 of pooled training at the same ε (mean of 5 seeds)', async () => {
    const pooled = SEEDS.map((seed) => {
      const random = seededRandom(seed);
      return accuracy(
        trainDpSgd(WDBC_LOGISTIC, buildTrainingDataset({ rows: train, schema: WDBC_SCHEMA, random }), {
          random,
        }),
      );
    });
    const federated: number[] = [];
    for (const seed of SEEDS) {
      const { model, events } = await federatedRun(seed, 3);
      expect(events[0]).toBe('charged');
      expect(model.card.privacy?.epsilon).toBeLessThanOrEqual(3);
      federated.push(accuracy(model));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean(federated) - mean(pooled))).toBeLessThanOrEqual(0.01);
  }, 300_000);

  it('a node answers each step of a job once, and no step beyond the plan', async () => {
    const shape = { nodes: 3, threshold: 3, maxColludingNodes: 0 };
    const [dataset] = nodeDatasets(1);
    const tasks = dpSgdTasks({ dataset: () => dataset!, shape, maxEpsilonPerJob: 5, maxDeltaPerJob: 1e-5 });
    const plan = planFederatedDpSgd(WDBC_LOGISTIC, 31, shape);
    const session = (step: number, spec = WDBC_LOGISTIC) => ({
      protocol: 'dpgate-secagg/1' as const,
      nodes: COMMUNITIES,
      threshold: 3,
      bits: plan.bits,
      length: 31,
      nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
      task: { kind: 'dp-sgd', jobId: 'job', step, spec, parameters: '' },
    });
    await tasks.accept(session(1));
    expect(() => tasks.accept(session(1))).toThrow(/already answered/);
    expect(() => tasks.accept(session(101))).toThrow(/outside the job/);
    const greedy = { ...WDBC_LOGISTIC, privacy: { accountant: 'rdp' as const, delta: 1e-5, epsilon: 8 } };
    expect(() => tasks.accept(session(2, greedy))).toThrow(/per-job limits/);
  });
});
