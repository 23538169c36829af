/**
 * A federated training job end to end: three `dpgate node` processes, one per community, each on
 * its own database (a PGlite directory, or its own PostgreSQL database) holding only its own wdbc
 * patients; the gateway, whose database holds no patient at all, runs the job through the same
 * `/v1/training-jobs` API as a pooled job: dry run, charge to every community before the first
 * round, public progress, a model card, and only securely aggregated, noised sums in its memory.
 * Then a held-out evaluation and a hyperparameter search the same way, and nodes dropping out.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { HeldVector } from '../../src/federation/secagg-gateway.ts';
import { HttpTransport } from '../../src/federation/transport.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { PolicyStore } from '../../src/policy/policy-store.ts';
import { predict, type TrainedModel } from '../../src/train/index.ts';
import { loadWdbc } from '../fixtures/wdbc.ts';
import { createTestApp } from '../support/app.ts';
import { type DatabaseKind, describeEachDatabase, openTestDatabase } from '../support/databases.ts';
import { type NodeProcess, startNode } from './node-processes.ts';
import {
  loadCommunityPatients,
  loadReferencePatients,
  nodeOf,
  WDBC_COMMUNITIES,
  WDBC_REQUEST,
  type WdbcFederation,
  wdbcFederation,
} from './wdbc-federation.ts';

/** Each community's node database, made the way its operator would: migrate, then load its rows. */
async function communityDatabase(kind: DatabaseKind, dir: string, community: string) {
  if (kind === 'postgres') {
    const database = await openTestDatabase('postgres', { demo: false });
    await loadCommunityPatients(database.db, community);
    return { env: { DATABASE_URL: database.url! }, close: () => database.close() };
  }
  const dataDir = join(dir, `${community}-data`);
  const database = await openDatabase({ dataDir });
  await migrate(database);
  await loadCommunityPatients(database.db, community);
  await database.close();
  return { env: { DATABASE_URL: '', DPGATE_DATA_DIR: dataDir }, close: async () => {} };
}

describeEachDatabase(
  'a federated training job over three node processes',
  (database, kind) => {
    let dir: string;
    let federation: WdbcFederation;
    let t: Awaited<ReturnType<typeof createTestApp>>;
    const nodes = new Map<string, NodeProcess>();
    /** What each node was started with, to start it again after a dropout test. */
    const starts = new Map<string, () => Promise<NodeProcess>>();
    const urls: Record<string, string> = {};
    const closers: (() => Promise<void>)[] = [];
    const held: HeldVector[] = [];
    const contacts: { node: string; trainingCharges: number }[] = [];
    /** Nodes to stop once the gateway has made this many calls (the dropout test sets it). */
    let stopAfter: { calls: number; victims: string[] } | undefined;
    /** Nodes to stop when the gateway opens a job's held-out round. */
    let stopAtHeldOut: string[] = [];

    const post = (body: unknown) =>
      t.app.request('/v1/training-jobs', {
        method: 'POST',
        headers: { ...t.bearer(t.keys.analyst), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const get = async (path: string) =>
      (await t.app.request(path, { headers: t.bearer(t.keys.analyst) })).json() as Promise<
        Record<string, unknown>
      >;
    const trainingCharges = async () =>
      Number(
        (
          await sql<{ n: string }>`select count(*) as n from dpgate.charges where kind = 'training'`.execute(
            database().db,
          )
        ).rows[0]!.n,
      );
    async function restart(id: string) {
      await nodes.get(id)?.stop();
      const node = await starts.get(id)!();
      nodes.set(id, node);
      urls[id] = node.url;
    }
    async function finished(id: string) {
      for (let i = 0; i < 1200; i++) {
        const job = await get(`/v1/training-jobs/${id}`);
        if (['succeeded', 'failed', 'cancelled'].includes(job.status as string)) return job;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error('the job did not finish');
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dpgate-federated-job-'));
      federation = await wdbcFederation({ threshold: 2, reference: true });
      const policyDir = join(dir, 'policies');
      await mkdir(policyDir);
      for (const file of federation.files) await writeFile(join(policyDir, file.name), file.text);
      await Promise.all(
        WDBC_COMMUNITIES.map(async (community) => {
          const id = nodeOf(community);
          const store = await communityDatabase(kind, dir, community);
          closers.push(store.close);
          const keyFile = join(dir, `${id}.jwk`);
          await writeFile(keyFile, JSON.stringify(federation.nodeKeys.get(id)!.privateJwk));
          starts.set(id, () => startNode(id, keyFile, policyDir, store.env));
          await restart(id);
        }),
      );
      const transport = new HttpTransport(urls);
      const call = transport.call.bind(transport);
      let calls = 0;
      transport.call = async (node, message, timeout) => {
        calls++;
        if (contacts.length === 0) contacts.push({ node, trainingCharges: await trainingCharges() });
        if (stopAfter && calls >= stopAfter.calls) {
          await Promise.all(stopAfter.victims.map((victim) => nodes.get(victim)!.stop()));
        }
        if (stopAtHeldOut.length > 0 && JSON.stringify(message).includes('"kind":"held-out"')) {
          await Promise.all(stopAtHeldOut.map((victim) => nodes.get(victim)!.stop()));
        }
        return call(node, message, timeout);
      };
      t = await createTestApp(database(), () => ({
        policies: new PolicyStore(federation.snapshot),
        federation: {
          aggregation: {
            transport,
            identity: {
              id: 'gateway',
              signingKey: federation.gateway.privateKey,
              nodeKeys: Object.fromEntries([...federation.nodeKeys].map(([id, key]) => [id, key.publicKey])),
            },
            timeoutMs: 60_000,
            observe: (vector) => held.push(vector),
          },
        },
      }));
      // The gateway holds a public reference table (no private row) to pre-train on.
      await loadReferencePatients(database().db, 60);
      await applyPolicy(database().db, federation.snapshot);
    }, 300_000);

    afterAll(async () => {
      await Promise.all([...nodes.values()].map((node) => node.stop()));
      await Promise.all(closers.map((close) => close()));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('prices the job in a dry run, and refuses what federated training does not do, at no cost', async () => {
      const dry = await post({ ...WDBC_REQUEST, dry_run: true });
      expect(dry.status).toBe(200);
      const priced = (await dry.json()) as { cost: { epsilon: number }; communities: { fits: boolean }[] };
      expect(priced.cost.epsilon).toBeLessThanOrEqual(3);
      expect(priced.communities.map((c) => c.fits)).toEqual([true, true, true]);
      const refused = await post({ ...WDBC_REQUEST, population_epsilon: 0.5 });
      expect(refused.status).toBe(422);
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/not federated/);
      expect(await trainingCharges()).toBe(0);
      expect(contacts).toEqual([]);
    });

    it('charges every community before the first round, trains on the nodes, and releases a model with its card', async () => {
      // The gateway's own database has no patient table: it cannot read a row.
      const table = await sql<{
        t: string | null;
      }>`select to_regclass('commons.patients')::text as t`.execute(database().db);
      expect(table.rows[0]!.t).toBeNull();

      const dry = (await (await post({ ...WDBC_REQUEST, dry_run: true })).json()) as {
        cost: { epsilon: number; delta: number };
      };
      const started = await post(WDBC_REQUEST);
      expect(started.status).toBe(202);
      const job = (await started.json()) as {
        id: string;
        cost: { epsilon: number; delta: number };
        charged: { community: string }[];
      };
      expect(job.charged.map((c) => c.community)).toEqual(['hillcrest', 'lakeside', 'riverside']);
      // Charged exactly what the dry run priced (the ledger stores it as the job's Rényi curve).
      expect(job.cost).toEqual(dry.cost);
      const done = await finished(job.id);
      expect(done.status).toBe('succeeded');
      expect(contacts[0]!.trainingCharges).toBe(3);
      expect(done.progress).toMatchObject({ step: 100, steps: 100, epsilonSpent: job.cost.epsilon });

      const model = (await get(done.model as string)) as {
        weights: number[];
        card: TrainedModel['card'] & { federation: { nodes: string[]; threshold: number } };
      };
      expect(model.card.privacy).toMatchObject({ epsilon: job.cost.epsilon, delta: 1e-5, steps: 100 });
      expect(model.card.federation).toMatchObject({
        nodes: WDBC_COMMUNITIES.map(nodeOf),
        threshold: 2,
        guaranteed_nodes: 2,
      });
      const test = loadWdbc('test');
      const predictions = predict({ parameters: Float64Array.from(model.weights), card: model.card }, test);
      const correct = predictions.filter((p, i) => p.kind === 'binary' && p.label === test[i]!.label).length;
      // One run at ε = 3 (pooled runs average about 0.97; the seeded comparison is in federated-dp-sgd.test.ts).
      expect(correct / test.length).toBeGreaterThan(0.85);

      // In the gateway's memory: per round three masked inputs, their masked sum and the sum of all
      // three, never one node's unmasked vector.
      expect(held).toHaveLength(100 * 5);
      for (let round = 0; round < 100; round++) {
        const kinds = held.slice(5 * round, 5 * round + 5);
        expect(kinds.map((h) => h.kind)).toEqual([
          'masked_input',
          'masked_input',
          'masked_input',
          'masked_sum',
          'sum',
        ]);
        expect((kinds[4] as { nodes: readonly string[] }).nodes).toHaveLength(3);
      }
      // Nor in its logs: no line carries a vector.
      expect(JSON.stringify(t.logs)).not.toMatch(/masked|limbs/);
    }, 600_000);

    /** Starts a job and checks it is charged exactly its dry run; returns its id and cost. */
    async function startPriced(request: Record<string, unknown>) {
      const dry = (await (await post({ ...request, dry_run: true })).json()) as {
        cost: { epsilon: number; delta: number };
        communities: { would_charge: { epsilon: number; delta: number } }[];
      };
      const started = await post(request);
      expect(started.status).toBe(202);
      const job = (await started.json()) as { id: string; cost: unknown };
      expect(job.cost).toEqual(dry.cost);
      const charges = await sql<{ epsilon: number; delta: number }>`
        select epsilon, delta from dpgate.charges where subject_id = ${job.id} order by community_id`.execute(
        database().db,
      );
      // Each community is charged what the dry run said it would be, before the first round.
      expect(charges.rows).toHaveLength(3);
      charges.rows.forEach((row, i) => {
        expect(Number(row.epsilon)).toBeCloseTo(dry.communities[i]!.would_charge.epsilon, 12);
        expect(Number(row.delta)).toBeCloseTo(dry.communities[i]!.would_charge.delta, 18);
      });
      return { id: job.id, cost: dry.cost };
    }
    const modelOf = async (done: Record<string, unknown>) =>
      (await get(done.model as string)) as {
        weights: number[];
        card: TrainedModel['card'] & {
          evaluation: Record<string, unknown> & { kind: string };
          federation: { held_out: { dropouts: string[]; local_sigma: number } };
        };
      };
    const testAccuracy = (model: { weights: number[]; card: TrainedModel['card'] }) => {
      const test = loadWdbc('test');
      const predictions = predict({ parameters: Float64Array.from(model.weights), card: model.card }, test);
      return (
        predictions.filter((p, i) => p.kind === 'binary' && p.label === test[i]!.label).length / test.length
      );
    };
    const HELD_OUT_JOB = { ...WDBC_REQUEST, steps: 30, holdout: { fraction: 0.2, epsilon: 2 } };

    it('evaluates the model on held-out persons of every node, charged with the job', async () => {
      const rounds = held.length;
      const { id, cost } = await startPriced(HELD_OUT_JOB);
      const done = await finished(id);
      expect(done.status).toBe('succeeded');
      expect(done.progress).toMatchObject({ step: 30, steps: 30, epsilonSpent: cost.epsilon });
      const model = await modelOf(done);
      expect(model.card.privacy).toMatchObject({ epsilon: cost.epsilon, delta: 1e-5 });
      const { evaluation } = model.card;
      expect(evaluation).toMatchObject({ kind: 'held_out', epsilon: 2 });
      // About 0.2·455 = 91 held-out patients, each count with the noise of three shares.
      expect(Math.abs((evaluation.noisy_rows as number) - 91)).toBeLessThan(40);
      // The noisy held-out accuracy estimates what the model scores on wdbc's public test split.
      expect(Math.abs((evaluation.accuracy as number) - testAccuracy(model))).toBeLessThan(0.25);
      expect(model.card.federation.held_out.dropouts).toEqual([]);
      // 30 training rounds and one held-out round, each only masked vectors and their sums.
      expect(held.length - rounds).toBe(31 * 5);
    }, 600_000);

    it('searches three candidates on the nodes and releases the best on held-out persons', async () => {
      const { id, cost } = await startPriced({
        ...HELD_OUT_JOB,
        steps: 20,
        candidates: [
          { model: { kind: 'logistic' } },
          { model: { kind: 'logistic' }, optimizer: { kind: 'sgd', learning_rate: 0.01 } },
          { model: { kind: 'mlp', hidden: [4] } },
        ],
      });
      const done = await finished(id);
      expect(done.status).toBe('succeeded');
      expect(done.progress).toMatchObject({
        step: 20,
        candidate: 2,
        candidates: 3,
        epsilonSpent: cost.epsilon,
      });
      const model = await modelOf(done);
      const { evaluation } = model.card;
      expect(evaluation.kind).toBe('selection');
      const scores = evaluation.noisy_correct as number[];
      expect(scores).toHaveLength(3);
      expect(evaluation.chosen).toBe(scores.indexOf(Math.max(...scores)));
      expect(model.card.search).toEqual({ candidates: 3, epsilon: cost.epsilon, delta: cost.delta });
      expect(model.card.privacy).toMatchObject({ epsilon: cost.epsilon, steps: 20 });
      expect(testAccuracy(model)).toBeGreaterThan(0.8);
    }, 600_000);

    it('pre-trains free on the gateway’s public table, then fine-tunes on the nodes', async () => {
      const fineTune = { ...WDBC_REQUEST, steps: 10, epsilon: 1 };
      const plain = (await (await post({ ...fineTune, dry_run: true })).json()) as { cost: unknown };
      const { id, cost } = await startPriced({
        ...fineTune,
        pretrain: { table: 'patients_reference', epochs: 2, batch_size: 16 },
      });
      // The public rows cost nothing: the job is priced as the private run alone.
      expect(cost).toEqual(plain.cost);
      const done = await finished(id);
      expect(done.status).toBe('succeeded');
      const model = await modelOf(done);
      expect(model.card).toMatchObject({
        initialisedFrom: 'given weights',
        pretrained_on: 'patients_reference',
      });
      expect(testAccuracy(model)).toBeGreaterThan(0.8);
    }, 600_000);

    it('standardises the features from the nodes’ noisy sums before training, and evaluates with them', async () => {
      const rounds = held.length;
      const { id, cost } = await startPriced({
        ...HELD_OUT_JOB,
        steps: 20,
        epsilon: 1,
        standardise: { epsilon: 1 },
      });
      const done = await finished(id);
      expect(done.status).toBe('succeeded');
      const model = await modelOf(done);
      const { standardisation } = model.card;
      expect(standardisation!.mean).toHaveLength(30);
      expect(standardisation!.spread.every((s) => s >= 0.05)).toBe(true);
      // δ splits into training, the standardisation's share and the held-out share (float sums).
      expect(model.card.privacy).toMatchObject({ epsilon: cost.epsilon, delta: cost.delta });
      expect(cost.delta).toBeCloseTo(1e-5, 18);
      expect(model.card.evaluation.kind).toBe('held_out');
      // Prediction applies the released estimate, as in training on the nodes.
      expect(testAccuracy(model)).toBeGreaterThan(0.85);
      // One standardisation round, 20 training rounds and one held-out round.
      expect(held.length - rounds).toBe(22 * 5);
    }, 600_000);

    it('fails the job, with its charge standing, when too few nodes are left to finish a round', async () => {
      const charges = await trainingCharges();
      stopAfter = { calls: 60, victims: ['node_hillcrest', 'node_lakeside'] };
      const started = await post({ ...WDBC_REQUEST, steps: 50 });
      expect(started.status).toBe(202);
      const { id } = (await started.json()) as { id: string };
      const done = await finished(id);
      expect(done.status).toBe('failed');
      expect(done.error).toBe('AggregationAborted');
      expect(done.model_id).toBeNull();
      expect(await trainingCharges()).toBe(charges + 3);
    }, 600_000);

    it('finishes the held-out round above the threshold when a node drops out, and aborts it below', async () => {
      await Promise.all(['node_hillcrest', 'node_lakeside'].map(restart));
      stopAfter = undefined;
      stopAtHeldOut = ['node_lakeside'];
      const cheap = { ...HELD_OUT_JOB, steps: 10, epsilon: 1, holdout: { fraction: 0.2, epsilon: 0.5 } };
      const above = await startPriced(cheap);
      const survived = await finished(above.id);
      expect(survived.status).toBe('succeeded');
      expect((await modelOf(survived)).card.federation.held_out.dropouts).toEqual(['node_lakeside']);

      // Two nodes train; one of them dies as the held-out round opens: fewer than t = 2 remain.
      const charges = await trainingCharges();
      stopAtHeldOut = ['node_hillcrest'];
      const below = await startPriced(cheap);
      const aborted = await finished(below.id);
      expect(aborted.status).toBe('failed');
      expect(aborted.error).toBe('AggregationAborted');
      expect(aborted.model_id).toBeNull();
      // The charge stands: the training rounds used the data; nothing was released uncharged.
      expect(await trainingCharges()).toBe(charges + 3);
    }, 600_000);
  },
  { demo: true },
);
