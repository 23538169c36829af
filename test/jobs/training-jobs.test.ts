/**
 * DP-SGD jobs over HTTP: the cost is charged before training, to every community; refusals cost
 * nothing; progress holds only public values; the model comes back with its card; a job cut off by
 * a restart is marked failed and its charge stands.
 */
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { dpSgdEpsilon } from '../../src/dp/accounting/index.ts';
import { failInterruptedJobs } from '../../src/jobs/training-jobs.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { formatIssue } from '../../src/policy/issues.ts';
import { PolicyStore } from '../../src/policy/policy-store.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { demoPolicyFiles, editFile } from '../support/demo-policy.ts';

const married = {
  table: 'people',
  features: ['age', 'income', 'educ'],
  label: 'married',
  model: { kind: 'logistic' },
  optimizer: { kind: 'adam', learning_rate: 0.1 },
  clip_norm: 1,
  batch_size: 100,
  epochs: 3,
  epsilon: 1,
  delta: 1e-6,
  accountant: 'rdp',
};

describeEachDatabase('training jobs', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  const post = (path: string, body: unknown, key = t.keys.analyst) =>
    t.app.request(path, {
      method: 'POST',
      headers: { ...t.bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const get = (path: string, key = t.keys.analyst) => t.app.request(path, { headers: t.bearer(key) });
  const chargeCount = async () =>
    (
      await sql<{ n: number }>`select count(*) as n from dpgate.charges where kind = 'training'`.execute(
        database().db,
      )
    ).rows[0]!.n;

  beforeAll(async () => {
    t = await createTestApp(database());
  });

  it('charges the full cost to every community before training, then releases the model with its card', async () => {
    const started = await post('/v1/training-jobs', married);
    expect(started.status).toBe(202);
    const job = (await started.json()) as {
      id: string;
      cost: { epsilon: number; delta: number; training: { q: number; sigma: number; steps: number } };
      charged: { community: string }[];
    };
    const training = job.cost.training;
    expect(job.charged.map((c) => c.community)).toEqual(['hillcrest', 'lakeside', 'riverside']);
    expect(training.q).toBe(0.1);
    expect(training.steps).toBe(30);
    expect(job.cost.epsilon).toBeLessThanOrEqual(1);
    expect(job.cost.epsilon).toBe(
      dpSgdEpsilon(
        { q: training.q, sigma: training.sigma, steps: training.steps, delta: job.cost.delta },
        'rdp',
      ),
    );
    expect(await chargeCount()).toBe(3);

    let state: { status: string; model_id: string | null; progress: Record<string, unknown> | null } = {
      status: 'queued',
      model_id: null,
      progress: null,
    };
    for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(state.status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = (await (await get(`/v1/training-jobs/${job.id}`)).json()) as typeof state;
    }
    expect(state.status).toBe('succeeded');
    expect(Object.keys(state.progress ?? {}).sort()).toEqual([
      'epoch',
      'epsilonAccountant',
      'epsilonSpent',
      'expectedExamplesPerStep',
      'step',
      'steps',
    ]);

    const model = (await (await get(`/v1/models/${state.model_id}`)).json()) as {
      weights: number[];
      card: Record<string, unknown>;
    };
    expect(model.weights).toHaveLength(4);
    expect(model.card).toMatchObject({
      model: { kind: 'logistic' },
      features: [
        { name: 'age', lower: 0, upper: 100 },
        { name: 'income', lower: 0, upper: 500000 },
        { name: 'educ', lower: 1, upper: 16 },
      ],
      label: { kind: 'binary', name: 'married' },
      privacy: {
        epsilon: job.cost.epsilon,
        sigma: training.sigma,
        q: 0.1,
        steps: 30,
        clipNorm: 1,
        accountant: 'rdp',
      },
      policy_version: t.policies.current.version,
    });
    const predictions = await post(`/v1/models/${state.model_id}/predict`, {
      rows: [
        { age: 45, income: 60000, educ: 12 },
        { age: 19, income: 0, educ: 9 },
      ],
    });
    const body = (await predictions.json()) as {
      predictions: { kind: string; label: number; probability: number }[];
    };
    expect(body.predictions).toHaveLength(2);
    expect(body.predictions[0]).toMatchObject({ kind: 'binary' });
    // Another analyst sees neither the job nor the model.
    const { createApiKey } = await import('../../src/principals/api-keys.ts');
    const other = (await createApiKey(database().db, { role: 'analyst', name: 'other' })).key;
    expect((await get(`/v1/training-jobs/${job.id}`, other)).status).toBe(404);
    expect((await get(`/v1/models/${state.model_id}`, other)).status).toBe(404);
    expect((await get(`/v1/models/${state.model_id}`, t.keys.council)).status).toBe(200);
  });

  it('evaluates on held-out persons, or picks the best candidate there, with that cost charged up front', async () => {
    const waitFor = async (id: string) => {
      for (let i = 0; i < 300; i++) {
        const job = (await (await get(`/v1/training-jobs/${id}`)).json()) as {
          status: string;
          model_id: string;
        };
        if (job.status !== 'queued' && job.status !== 'running') return job;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('job did not finish');
    };
    const evaluated = (await (
      await post('/v1/training-jobs', { ...married, holdout: { fraction: 0.2, epsilon: 0.2 } })
    ).json()) as {
      id: string;
      cost: { epsilon: number; training: { epsilon: number; q: number } };
    };
    expect(evaluated.cost.epsilon).toBeCloseTo(evaluated.cost.training.epsilon + 0.2, 6);
    expect(evaluated.cost.training.q).toBe(100 / 800);
    const done = await waitFor(evaluated.id);
    expect(done.status).toBe('succeeded');
    const card = (
      (await (await get(`/v1/models/${done.model_id}`)).json()) as {
        card: { evaluation: { kind: string; accuracy: number } };
      }
    ).card;
    expect(card.evaluation.kind).toBe('held_out');
    expect(card.evaluation.accuracy).toBeGreaterThanOrEqual(0);

    const search = (await (
      await post('/v1/training-jobs', {
        ...married,
        epochs: 1,
        holdout: { fraction: 0.2, epsilon: 0.2 },
        candidates: [
          { model: { kind: 'logistic' } },
          { model: { kind: 'mlp', hidden: [8], activation: 'tanh' } },
        ],
      })
    ).json()) as {
      id: string;
      cost: { epsilon: number; training: { steps: number }; selection: { epsilon: number } };
    };
    expect(search.cost.selection.epsilon).toBe(search.cost.epsilon);
    expect(search.cost.training.steps).toBe(2 * 8);
    const searched = await waitFor(search.id);
    expect(searched.status).toBe('succeeded');
    const chosen = (
      (await (await get(`/v1/models/${searched.model_id}`)).json()) as {
        card: {
          evaluation: { kind: string; noisy_correct: number[] };
          search: { candidates: number; epsilon: number };
        };
      }
    ).card;
    expect(chosen.evaluation.noisy_correct).toHaveLength(2);
    expect(chosen.search).toMatchObject({ candidates: 2, epsilon: search.cost.epsilon });
  });

  it('trains on private tables joined on the person, with the rows-per-person bounds multiplied', async () => {
    const joined = {
      ...married,
      join: ['survey_responses'],
      features: ['people.age', 'survey_responses.income', 'survey_responses.educ'],
      label: 'people.married',
      epochs: 1,
      epsilon: 0.3,
    };
    const ambiguous = await post('/v1/training-jobs', { ...joined, features: ['age'] });
    expect(((await ambiguous.json()) as { code: string; detail: string }).detail).toContain(
      'write table.column',
    );
    const started = await post('/v1/training-jobs', joined);
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    let state = { status: 'queued', model_id: '' };
    for (let i = 0; i < 200 && (state.status === 'queued' || state.status === 'running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = (await (await get(`/v1/training-jobs/${id}`)).json()) as typeof state;
    }
    expect(state.status).toBe('succeeded');
    const card = (
      (await (await get(`/v1/models/${state.model_id}`)).json()) as {
        card: { features: { name: string }[]; privacy: { maxRowsPerPerson: number } };
      }
    ).card;
    expect(card.features.map((f) => f.name)).toEqual([
      'people.age',
      'survey_responses.income',
      'survey_responses.educ',
    ]);
    expect(card.privacy.maxRowsPerPerson).toBe(2);
  });

  it('streams progress and the end of the job as server-sent events', async () => {
    const job = (await (await post('/v1/training-jobs', { ...married, epochs: 1 })).json()) as { id: string };
    const events = await (await get(`/v1/training-jobs/${job.id}/events`)).text();
    expect(events).toContain('event: done');
    expect(events).toMatch(/"status":"succeeded"/);
  });

  it('refuses, at no cost, what cannot be trained privately', async () => {
    const before = await chargeCount();
    const refusals: [Record<string, unknown>, number, string][] = [
      [{ ...married, table: 'nowhere' }, 422, 'unknown_table'],
      [{ ...married, features: ['age', 'community_id'] }, 422, 'unbounded_column'],
      [{ ...married, label: 'age', model: { kind: 'logistic' } }, 422, 'invalid_training'],
      [{ ...married, epsilon: 50 }, 422, 'epsilon_too_large'],
      [{ ...married, epochs: undefined }, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of refusals) {
      const response = await post('/v1/training-jobs', body);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { code: string }).code).toBe(code);
    }
    expect((await post('/v1/training-jobs', married, t.keys.riverside)).status).toBe(403);
    expect(await chargeCount()).toBe(before);
  });

  it('marks a job cut off by a restart as failed, and keeps its charge', async () => {
    const db = database().db;
    const row = await db
      .insertInto('dpgate.training_jobs')
      .values({
        principal_id: crypto.randomUUID(),
        status: 'running',
        spec: sql`'{}'::jsonb`,
        policy_version: 'x',
        heartbeat_at: new Date(Date.now() - 120_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const before = await chargeCount();
    expect(await failInterruptedJobs(db)).toBe(1);
    const job = await db
      .selectFrom('dpgate.training_jobs')
      .select(['status', 'error'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(job).toEqual({ status: 'failed', error: 'interrupted' });
    expect(await chargeCount()).toBe(before);
  });
});

describeEachDatabase('pre-training on a public table', (database) => {
  it('pre-trains without noise or charge on the public table, then fine-tunes privately from its weights', async () => {
    const db = database().db;
    // A public reference sample with the same columns (in a real commons: published census tables).
    await sql`create table commons.reference_people as select age, income, educ, married from commons.people where person_id <= 300`.execute(
      db,
    );
    const files = editFile(
      editFile(await demoPolicyFiles(), 'tables.yaml', (text) =>
        text.replace(
          '  communities:\n    public: true',
          '  reference_people:\n    public: true\n    columns:\n      age: { type: int, bounds: [0, 100] }\n      income: { type: real, bounds: [0, 500000] }\n      educ: { type: int, public_range: [1, 16] }\n      married: { type: int, public_values: [0, 1] }\n\n  communities:\n    public: true',
        ),
      ),
      'commons.yaml',
      (text) =>
        text.replace(
          'tables: [people, survey_responses, communities]',
          'tables: [people, survey_responses, communities, reference_people]',
        ),
    );
    const validation = await validatePolicyFiles(files);
    if (!validation.ok) throw new Error(validation.issues.map(formatIssue).join('\n'));
    const t = await createTestApp(database(), () => ({ policies: new PolicyStore(validation.snapshot) }));
    // createTestApp applies the demo policy; this one, with the public table, takes over.
    await applyPolicy(db, validation.snapshot);
    const started = await t.app.request('/v1/training-jobs', {
      method: 'POST',
      headers: { ...t.bearer(t.keys.analyst), 'content-type': 'application/json' },
      body: JSON.stringify({ ...married, pretrain: { table: 'reference_people', epochs: 5 } }),
    });
    expect(started.status).toBe(202);
    const job = (await started.json()) as {
      id: string;
      cost: { epsilon: number; training: { epsilon: number } };
    };
    // Pre-training is free: the job costs exactly its private training.
    expect(job.cost.epsilon).toBe(job.cost.training.epsilon);
    let state = { status: 'queued', model_id: '' };
    for (let i = 0; i < 200 && (state.status === 'queued' || state.status === 'running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = (await (
        await t.app.request(`/v1/training-jobs/${job.id}`, { headers: t.bearer(t.keys.analyst) })
      ).json()) as typeof state;
    }
    expect(state.status).toBe('succeeded');
    const model = (await (
      await t.app.request(`/v1/models/${state.model_id}`, { headers: t.bearer(t.keys.analyst) })
    ).json()) as {
      card: { pretrained_on: string; initialisedFrom: string };
    };
    expect(model.card).toMatchObject({ pretrained_on: 'reference_people', initialisedFrom: 'given weights' });
    const refused = await t.app.request('/v1/training-jobs', {
      method: 'POST',
      headers: { ...t.bearer(t.keys.analyst), 'content-type': 'application/json' },
      body: JSON.stringify({ ...married, pretrain: { table: 'survey_responses', epochs: 1 } }),
    });
    expect(((await refused.json()) as { code: string }).code).toBe('invalid_training');
  });
});

describeEachDatabase('a training table without a public population', (database) => {
  it('estimates the population with a charged DP count, or refuses at no cost without one', async () => {
    const files = editFile(await demoPolicyFiles(), 'tables.yaml', (text) =>
      text.replace("    population: 1000   # the PUMS extract's documented size\n", ''),
    );
    const validation = await validatePolicyFiles(files);
    if (!validation.ok) throw new Error(validation.issues.map(formatIssue).join('\n'));
    const t = await createTestApp(database(), () => ({ policies: new PolicyStore(validation.snapshot) }));
    // createTestApp applies the demo policy; the one this app serves must be the one in force.
    await applyPolicy(database().db, validation.snapshot);
    const post = (body: unknown) =>
      t.app.request('/v1/training-jobs', {
        method: 'POST',
        headers: { ...t.bearer(t.keys.analyst), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const charges = async () =>
      (await sql<{ n: number }>`select count(*) as n from dpgate.charges`.execute(database().db)).rows[0]!.n;

    const refused = await post(married);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { detail: string }).detail).toContain('population_epsilon');
    expect(await charges()).toBe(0);

    const started = await post({ ...married, population_epsilon: 0.1 });
    expect(started.status).toBe(202);
    const job = (await started.json()) as { id: string; cost: { training: { q: number } } };
    // One count and one training charge per community.
    expect(await charges()).toBe(6);
    const row = await database()
      .db.selectFrom('dpgate.training_jobs')
      .select('spec')
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    const estimate = (row.spec as { population_estimate: number }).population_estimate;
    // 1000 persons; discrete Laplace of scale 10 passes ±150 with probability 2e^-15.1/(1 + e^-0.1) ≈ 3e-7.
    expect(Math.abs(estimate - 1000)).toBeLessThan(150);
    expect(job.cost.training.q).toBeCloseTo(100 / estimate, 12);
  });
});
