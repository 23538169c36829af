/**
 * Federated DP-SGD on wdbc split across three community nodes, each reading its own patients from
 * its own database and answering over HTTP, against pooled training on all patients at the same ε.
 * Seeded (nodes and gateway) so the comparison is the same on every run.
 */
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncQueryRole } from '../../src/db/query-role.ts';
import {
  dpSgdTasks,
  planFederatedDpSgd,
  trainFederatedDpSgd,
} from '../../src/federation/federated-dp-sgd.ts';
import { createNodeService } from '../../src/federation/node-service.ts';
import { HttpTransport } from '../../src/federation/transport.ts';
import { type ResolvedJob, resolveJob } from '../../src/jobs/federated-training.ts';
import { TrainingRequestSchema } from '../../src/jobs/training-request.ts';
import { buildTrainingDataset } from '../../src/train/dataset.ts';
import type { TrainedModel } from '../../src/train/model-card.ts';
import { predict } from '../../src/train/predict.ts';
import { planPrivacy } from '../../src/train/privacy-plan.ts';
import { trainDpSgd } from '../../src/train/train-dp-sgd.ts';
import { loadWdbc, WDBC_LOGISTIC, WDBC_SCHEMA } from '../fixtures/wdbc.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seededRandom } from '../support/seeded-random.ts';
import {
  loadCommunityPatients,
  nodeOf,
  WDBC_COMMUNITIES,
  WDBC_REQUEST,
  type WdbcFederation,
  wdbcFederation,
} from './wdbc-federation.ts';

const train = loadWdbc('train');
const test = loadWdbc('test');
const SEEDS = [1, 2, 3, 4, 5];
const plan = async (setting: Parameters<typeof planPrivacy>[0]) => planPrivacy(setting);

let federation: WdbcFederation;
let resolved: ResolvedJob;
const databases = new Map<string, TestDatabase>();

beforeAll(async () => {
  federation = await wdbcFederation({ threshold: 2 });
  const { policy } = federation.snapshot;
  for (const community of WDBC_COMMUNITIES) {
    const database = await openTestDatabase('pglite', { demo: false });
    await loadCommunityPatients(database.db, community);
    await database.db.transaction().execute((trx) => syncQueryRole(trx, policy, 'node'));
    databases.set(nodeOf(community), database);
  }
  resolved = await resolveJob(policy, 'analyst', TrainingRequestSchema.parse(WDBC_REQUEST), { plan });
}, 120_000);

afterAll(async () => {
  await Promise.all([...databases.values()].map((database) => database.close()));
});

function accuracy(model: TrainedModel): number {
  const predictions = predict(model, test);
  return predictions.filter((p, i) => p.kind === 'binary' && p.label === test[i]!.label).length / test.length;
}

/** Three node services over their own databases, each on its own port, seeded from `seed`. */
async function startNodes(seed: number) {
  const servers: ServerType[] = [];
  const urls: Record<string, string> = {};
  for (const [k, [id, database]] of [...databases].entries()) {
    const service = createNodeService({
      nodeId: id,
      signingKey: federation.nodeKeys.get(id)!.privateKey,
      policy: federation.snapshot,
      db: database.db,
      plan,
      random: seededRandom(seed * 10 + k),
    });
    const server = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address() as { port: number };
    urls[id] = `http://127.0.0.1:${address.port}`;
    servers.push(server);
  }
  const close = () =>
    Promise.all(servers.map((server) => new Promise((resolve) => server.close(() => resolve(null)))));
  return { urls, close };
}

async function federatedRun(seed: number) {
  const nodes = await startNodes(seed);
  try {
    const { federation: job } = resolved;
    return await trainFederatedDpSgd({
      spec: resolved.spec,
      schema: resolved.schema,
      jobId: `job-${seed}`,
      job: { ...job!.job, policy_version: federation.snapshot.version },
      nodes: job!.nodes,
      shape: job!.shape,
      privacy: resolved.plan,
      aggregation: {
        transport: new HttpTransport(nodes.urls),
        identity: {
          id: 'gateway',
          signingKey: federation.gateway.privateKey,
          nodeKeys: Object.fromEntries([...federation.nodeKeys].map(([id, key]) => [id, key.publicKey])),
        },
      },
      random: seededRandom(seed),
    });
  } finally {
    await nodes.close();
  }
}

describe('federated DP-SGD on wdbc split across three community nodes', () => {
  it('resolves to the pooled benchmark setting, charged to the three communities at the pooled ε', () => {
    expect(resolved.spec).toEqual(WDBC_LOGISTIC);
    expect(resolved.schema).toEqual(WDBC_SCHEMA);
    expect(resolved.communities).toEqual(['hillcrest', 'lakeside', 'riverside']);
    const fed = resolved.federation!.runs[0]!;
    expect(fed.plan.privacy).toBe(resolved.plan);
    expect(resolved.plan.epsilon).toBeLessThanOrEqual(3);
    // The two guaranteed nodes' shares (t = 2, f = 0) sum to at least the pooled grid noise
    // (σΔ)² + t², t² = 9 less float rounding, and are as close to one discrete Gaussian as it is.
    const sigmaGrid = resolved.plan.sigma * fed.plan.grid.sensitivityInSteps;
    const local = fed.plan.localSigmaSquared.numerator / fed.plan.localSigmaSquared.denominator;
    expect(2 * local - sigmaGrid ** 2).toBeGreaterThanOrEqual(8);
    expect(fed.plan.ratioGap).toBeLessThan(1e-50);
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
      const model = await federatedRun(seed);
      expect(model.card.privacy?.epsilon).toBe(resolved.plan.epsilon);
      expect(model.dropouts.flat()).toEqual([]);
      federated.push(accuracy(model));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean(federated) - mean(pooled))).toBeLessThanOrEqual(0.01);
  }, 600_000);

  it('a node answers each step of a job once, and no step beyond the plan', async () => {
    const shape = { nodes: 3, threshold: 3, maxColludingNodes: 0 };
    const dataset = buildTrainingDataset({ rows: train.slice(0, 150), schema: WDBC_SCHEMA });
    const tasks = dpSgdTasks({
      load: async (task) => ({ runs: [task.job as unknown as typeof WDBC_LOGISTIC], dataset }),
      shape,
      maxEpsilonPerJob: 5,
      maxDeltaPerJob: 1e-5,
    });
    const fedPlan = planFederatedDpSgd(WDBC_LOGISTIC, 31, shape);
    const session = (step: number, spec = WDBC_LOGISTIC) => ({
      protocol: 'dpgate-secagg/1' as const,
      nodes: WDBC_COMMUNITIES.map(nodeOf),
      threshold: 3,
      bits: fedPlan.bits,
      length: 31,
      nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
      task: { kind: 'dp-sgd', jobId: 'job', step, job: spec, parameters: '' },
    });
    await tasks.accept(session(1));
    await expect(tasks.accept(session(1))).rejects.toThrow(/already answered/);
    await expect(tasks.accept(session(101))).rejects.toThrow(/outside the job/);
    const greedy = { ...WDBC_LOGISTIC, privacy: { accountant: 'rdp' as const, delta: 1e-5, epsilon: 8 } };
    await expect(tasks.accept({ ...session(2, greedy) })).rejects.toThrow(/per-job limits/);
  });
});
