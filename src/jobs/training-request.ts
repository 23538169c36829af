/**
 * From an analyst's training request to everything the job needs, decided from the request and the
 * policy alone, before any data is read: the dataset's public schema (features and label with their
 * policy bounds), the SQL that reads it, the DP-SGD spec, its privacy plan (σ from the accountant),
 * the cost and the communities charged. A request that cannot be made private is refused here, at
 * no cost.
 */
import { z } from 'zod';
import { zcdpBudget, zcdpToEpsilon } from '../dp/accounting/index.ts';
import type { ZcdpLoss } from '../dp/discrete-gaussian.ts';
import type { PureLoss } from '../dp/discrete-laplace.ts';
import type { PrivacyLoss } from '../dp/privacy-loss.ts';
import { MAX_ETA } from '../dp/stopping-distribution.ts';
import { parseUnitHop } from '../policy/cross-check.ts';
import {
  type ColumnPolicy,
  DEFAULT_SCHEMA,
  type Policy,
  type Role,
  type TablePolicy,
} from '../policy/schema.ts';
import type { RewrittenSql } from '../sql/index.ts';
import {
  type Candidate,
  createOptimizer,
  type DatasetSchema,
  type DpSgdSpec,
  type LabelSpec,
  MAX_RANDOM_STOPPING_RUNS,
  type ModelSpec,
  type OptimizerSpec,
  type PlanSetting,
  type PrivacyPlan,
  type PublicTrainingSpec,
  privateEvaluationLoss,
  type RandomStoppingCost,
  randomStoppingCost,
  type SearchCost,
  samplingRate,
  scoreLoss,
  searchCost,
  searchTrainingSetting,
  standardisationLoss,
  stepsForEpochs,
} from '../train/index.ts';

const COLUMN_REFERENCE = /^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/;

const ModelRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('logistic') }),
  z.object({ kind: z.literal('softmax') }),
  z.object({ kind: z.literal('linear') }),
  z.object({
    kind: z.literal('mlp'),
    hidden: z.union([
      z.tuple([z.number().int().min(1).max(1024)]),
      z.tuple([z.number().int().min(1).max(1024), z.number().int().min(1).max(1024)]),
    ]),
    activation: z.enum(['relu', 'tanh']).default('relu'),
  }),
]);

const ScheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }).strict(),
  z
    .object({
      kind: z.literal('cosine'),
      warmup_steps: z.number().int().min(0).max(1_000_000).optional(),
      final_fraction: z.number().min(0).max(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('step'),
      every: z.number().int().min(1).max(1_000_000),
      factor: z.number().gt(0).max(1),
    })
    .strict(),
]);

const optimizerCommon = {
  learning_rate: z.number().positive().max(100),
  /** Decoupled weight decay (AdamW style). */
  weight_decay: z.number().min(0).lt(1).optional(),
  schedule: ScheduleSchema.optional(),
};

const OptimizerRequestSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('sgd'), ...optimizerCommon, momentum: z.number().min(0).lt(1).optional() })
    .strict(),
  z
    .object({
      kind: z.literal('adam'),
      ...optimizerCommon,
      beta1: z.number().min(0).lt(1).optional(),
      beta2: z.number().min(0).lt(1).optional(),
      epsilon: z.number().positive().max(1).optional(),
    })
    .strict(),
]);

/**
 * Ranges wide enough for any useful run and narrow enough that the accountants and the sampler work
 * in them: σ below 0.1 gives no meaningful privacy at any ε a policy allows (and the accountants'
 * grids cannot represent its loss), a batch above ten million persons is beyond any commons here.
 * A value outside is a 400 naming the field, never a 500.
 */
const MAX_BATCH_SIZE = 10_000_000;
const MIN_NOISE_MULTIPLIER = 0.1;
const MAX_NOISE_MULTIPLIER = 1e4;
const MAX_EPSILON = 100;
const MIN_DELTA = 1e-30;
const CLIP_NORM = z.number().positive().max(1e6);

type ModelRequest = z.output<typeof ModelRequestSchema>;
type OptimizerRequest = z.output<typeof OptimizerRequestSchema>;

export const TrainingRequestSchema = z
  .object({
    table: z.string().regex(/^[a-z_][a-z0-9_]*$/),
    /** Columns, `column` or `table.column` when tables are joined. */
    features: z.array(z.string().regex(COLUMN_REFERENCE)).min(1).max(200),
    label: z.string().regex(COLUMN_REFERENCE),
    /** More private tables joined to `table` on the person (each the unit's table or one key from it). */
    join: z
      .array(z.string().regex(/^[a-z_][a-z0-9_]*$/))
      .min(1)
      .max(3)
      .optional(),
    model: ModelRequestSchema,
    optimizer: OptimizerRequestSchema.default({ kind: 'adam', learning_rate: 0.05 }),
    clip_norm: CLIP_NORM.default(1),
    /** Expected persons per step; q = batch_size / the table's public population. */
    batch_size: z.number().int().positive().max(MAX_BATCH_SIZE).optional(),
    /** The Poisson sampling rate q itself, instead of batch_size (expected batch q·N, N public). */
    sampling_rate: z.number().min(1e-9).max(1).optional(),
    epochs: z.number().positive().max(1000).optional(),
    steps: z.number().int().positive().max(1_000_000).optional(),
    epsilon: z.number().positive().max(MAX_EPSILON).optional(),
    noise_multiplier: z.number().min(MIN_NOISE_MULTIPLIER).max(MAX_NOISE_MULTIPLIER).optional(),
    delta: z.number().min(MIN_DELTA).lt(1).optional(),
    accountant: z.enum(['rdp', 'pld']).default('pld'),
    /** Hold out this fraction of persons; evaluate (or select) on them with this ε, charged too. */
    holdout: z
      .object({ fraction: z.number().gt(0).max(0.5), epsilon: z.number().positive().max(MAX_EPSILON) })
      .strict()
      .optional(),
    /**
     * Where policy gives the table no public population: estimate it with a DP count of persons at
     * this ε (charged before the training is planned; docs/training.md §9).
     */
    population_epsilon: z.number().positive().max(MAX_EPSILON).optional(),
    /** Pre-train without noise, at no cost, on a public table with the same columns; then fine-tune privately. */
    pretrain: z
      .object({
        table: z.string().regex(/^[a-z_][a-z0-9_]*$/),
        epochs: z.number().int().min(1).max(100),
        batch_size: z.number().int().min(1).default(32),
      })
      .strict()
      .optional(),
    /** Train each candidate and keep the best on the held-out persons (all k runs are charged). */
    candidates: z
      .array(
        z
          .object({
            model: ModelRequestSchema,
            optimizer: OptimizerRequestSchema.optional(),
            clip_norm: CLIP_NORM.optional(),
          })
          .strict(),
      )
      .min(2)
      .max(16)
      .optional(),
    /**
     * How to choose among the candidates: by composition (every candidate trained and scored once),
     * by random stopping (Papernot & Steinke 2022: runs of random candidates, the number that counts
     * drawn from D_{η,γ}, run a fixed number of times), or whichever is cheaper (the default).
     * γ defaults to 1/k for η = 1 (a geometric count with mean k). Random stopping always does a
     * fixed number of runs N (many more than k); `max_runs` bounds N, and past it the job is
     * priced by composition (or refused, when random stopping was named); docs/training.md §5.
     */
    search: z
      .object({
        method: z.enum(['cheaper', 'composition', 'random_stopping']).default('cheaper'),
        eta: z.number().min(0).max(MAX_ETA).default(1),
        gamma: z.number().gt(0).lt(1).optional(),
        max_runs: z.number().int().min(1).max(MAX_RANDOM_STOPPING_RUNS).optional(),
      })
      .strict()
      .optional(),
    /**
     * Standardise the features by a DP estimate of each one's mean and spread over the training
     * persons, at this ε (charged with the job); without it, features are scaled by policy bounds.
     */
    standardise: z
      .object({ epsilon: z.number().positive().max(MAX_EPSILON) })
      .strict()
      .optional(),
    /** Price the job (σ, q, steps, ε and every part) and what each community would have left: no charge, no data read. */
    dry_run: z.boolean().optional(),
  })
  .strict()
  .refine((r) => r.join === undefined || r.pretrain === undefined, {
    message: 'pre-training reads one public table; it does not combine with joined tables',
  })
  .refine((r) => r.candidates === undefined || r.pretrain === undefined, {
    message: 'pre-training starts one model; it does not combine with candidates of different shapes',
  })
  .refine((r) => r.standardise === undefined || r.pretrain === undefined, {
    message:
      'pre-training on public rows needs the scaling before the private run: use bound scaling with it',
  })
  .refine((r) => r.search === undefined || r.candidates !== undefined, {
    message: 'search chooses among candidates: give candidates',
  })
  .refine((r) => r.candidates === undefined || r.holdout !== undefined, {
    message: 'choosing among candidates needs a holdout to score them on',
  })
  .refine((r) => (r.batch_size === undefined) !== (r.sampling_rate === undefined), {
    message: 'give exactly one of batch_size and sampling_rate',
  })
  .refine((r) => (r.epochs === undefined) !== (r.steps === undefined), {
    message: 'give exactly one of epochs and steps',
  })
  .refine((r) => (r.epsilon === undefined) !== (r.noise_multiplier === undefined), {
    message: 'give exactly one of epsilon (σ is then calibrated) and noise_multiplier',
  });

export type TrainingRequest = z.output<typeof TrainingRequestSchema>;

export interface ResolvedTraining {
  readonly table: string;
  readonly schema: DatasetSchema;
  /** Reads `__person`, every feature and the label (as the model's label encoding expects). */
  readonly datasetSql: RewrittenSql;
  readonly maxRowsPerPerson: number;
  readonly spec: DpSgdSpec;
  /** The privacy plan of all training steps (k·T for a search). */
  readonly plan: PrivacyPlan;
  /** Held-out persons and the cost of evaluating (or selecting) on them. */
  readonly holdout?: HeldOutPart;
  readonly candidates?: readonly Candidate[];
  /** With candidates: the search's cost by composition (training of all candidates and their scores). */
  readonly search?: SearchCost;
  /** With candidates: the price by random stopping, when it could be priced. */
  readonly randomStopping?: RandomStoppingCost;
  /** Which of the two the job runs and is charged for. */
  readonly searchMethod?: 'composition' | 'random_stopping';
  /** DP standardisation of the features: its zCDP loss, and its ε at its share δ of the job's δ. */
  readonly standardise?: StandardisationPart;
  /** ε of the DP count of persons charged before the job, when policy gives no population. */
  readonly populationEpsilon: number | null;
  /** Steps of one run (a search runs `candidates.length` of them). */
  readonly stepsPerRun: number;
  /** Free, noiseless pre-training on a public table, scaled with the same (private table's) bounds. */
  readonly pretrain?: {
    readonly table: string;
    readonly datasetSql: RewrittenSql;
    readonly spec: PublicTrainingSpec;
  };
  /** Everything the job will cost, charged up front: training and, with a holdout, evaluation. */
  readonly losses: readonly PrivacyLoss[];
  readonly communities: readonly string[];
}

/**
 * How the held-out counts get their noise: discrete Laplace at the gateway (pooled, pure ε), or a
 * distributed discrete Gaussian summed over the nodes (federated, ρ-zCDP stated at a share of δ).
 */
export type HeldOutNoise = 'discrete_laplace' | 'distributed_gaussian';

export interface HeldOutPart {
  readonly fraction: number;
  /** The ε the request asked for the held-out part. */
  readonly epsilon: number;
  readonly noise: HeldOutNoise;
  /** The whole held-out release's loss: the evaluation's two counts, or a search's k scores. */
  readonly loss: PureLoss | ZcdpLoss;
  /** The part's (ε, δ) in the job's total: the pure ε and δ = 0, or ρ stated at its share of δ. */
  readonly stated: { readonly epsilon: number; readonly delta: number };
}

/** Why a training request is refused; `code` is stable. Never about data values. */
export class TrainingRefusal extends Error {
  override name = 'TrainingRefusal';
  constructor(
    readonly code:
      | 'unknown_table'
      | 'not_allowed'
      | 'unknown_column'
      | 'unbounded_column'
      | 'invalid_training'
      | 'epsilon_too_large'
      | 'delta_too_large',
    message: string,
  ) {
    super(message);
  }
}

export const PERSON_COLUMN = '__person';

/** Makes a run's privacy plan (σ calibration can take seconds: the server plans in a worker thread). */
export type Planner = (setting: PlanSetting) => Promise<PrivacyPlan>;
/** Prices a search's two selections (tens of ms: the server prices in a worker thread too). */
/**
 * `estimatedPopulation` is the released DP count of persons, for a table whose population policy
 * does not give; it is public from then on, like a policy figure.
 */
export async function resolveTraining(
  policy: Policy,
  role: Role,
  request: TrainingRequest,
  options: {
    readonly plan: Planner;
    readonly estimatedPopulation?: number | undefined;
    /** Default `discrete_laplace`; a federated job's held-out counts are summed over the nodes. */
    readonly heldOutNoise?: HeldOutNoise | undefined;
  },
): Promise<ResolvedTraining> {
  const { estimatedPopulation } = options;
  const heldOutNoise = options.heldOutNoise ?? 'discrete_laplace';
  const sources = [request.table, ...(request.join ?? [])].map((name) => trainingSource(policy, role, name));
  if (new Set(sources.map((source) => source.name)).size !== sources.length) {
    throw new TrainingRefusal('invalid_training', 'a table is joined twice');
  }
  const [main] = sources as [TrainingSource, ...TrainingSource[]];
  const table = main.policy;
  const joined = sources.length > 1;
  const features = request.features.map((reference) => {
    const { column, name } = locateColumn(sources, reference, joined);
    // Bounds, or a public integer range, fix the scaling before any value is read.
    const range = column.bounds ?? column.public_range;
    if (!(column.type === 'int' || column.type === 'real') || !range) {
      throw new TrainingRefusal(
        'unbounded_column',
        `feature "${reference}" needs numeric bounds in policy to be scaled without looking at the data`,
      );
    }
    return { name, lower: Number(range[0]), upper: Number(range[1]) };
  });
  const { label, labelSql } = labelOf(locateColumn(sources, request.label, joined));
  const model = modelSpec(request.model, label);
  const population = table.population ?? estimatedPopulation;
  if (!population) {
    throw new TrainingRefusal(
      'invalid_training',
      `"${request.table}" has no public population in policy: give population_epsilon to estimate it with a DP count`,
    );
  }
  // With a holdout, training sees about (1 − f)·N persons; that public figure sets q and the normaliser.
  const populationSize = request.holdout
    ? Math.floor(population * (1 - request.holdout.fraction))
    : population;
  const expectedBatchSize = request.batch_size ?? request.sampling_rate! * populationSize;
  if (expectedBatchSize > populationSize)
    throw new TrainingRefusal(
      'invalid_training',
      `batch_size is above the training population (${populationSize})`,
    );
  const sampling = { expectedBatchSize, populationSize };
  const steps = request.steps ?? stepsForEpochs(request.epochs!, sampling);
  const delta = request.delta ?? policy.limits.default_delta;
  if (delta > policy.limits.max_delta_per_job) {
    throw new TrainingRefusal(
      'delta_too_large',
      `delta ${delta} is above the policy's limit of ${policy.limits.max_delta_per_job} per job`,
    );
  }
  // A joined row of a person combines one row of each table, so the bounds multiply.
  const maxRowsPerPerson = sources.reduce(
    (rows, source) => rows * (source.policy.contributions?.max_rows_per_unit ?? 1),
    1,
  );
  // Standardising takes its share of δ, and so do distributed-Gaussian held-out counts; training
  // (and pure selection) is planned at the rest, and the parts add up to δ (basic composition).
  const standardise =
    request.standardise &&
    standardisationPart(request.standardise.epsilon, delta, features.length, maxRowsPerPerson);
  const heldOutDelta =
    request.holdout && heldOutNoise === 'distributed_gaussian' ? delta * HELD_OUT_DELTA_SHARE : 0;
  const trainingDelta = delta - (standardise?.delta ?? 0) - heldOutDelta;
  const privacy =
    request.epsilon !== undefined
      ? { accountant: request.accountant, delta: trainingDelta, epsilon: request.epsilon }
      : { accountant: request.accountant, delta: trainingDelta, noiseMultiplier: request.noise_multiplier! };
  const spec: DpSgdSpec = {
    model,
    clipNorm: request.clip_norm,
    sampling,
    steps,
    optimizer: optimizerSpec(request.optimizer),
    privacy,
    ...(standardise ? { standardise: { rho: standardise.loss.rho } } : {}),
  };
  const candidates = request.candidates?.map((candidate) => ({
    model: modelSpec(candidate.model, label),
    clipNorm: candidate.clip_norm ?? request.clip_norm,
    optimizer: optimizerSpec(candidate.optimizer ?? request.optimizer),
  }));
  // An optimizer setting that cannot run (a warm-up longer than the run) is refused now, at no cost.
  for (const optimizer of [spec.optimizer, ...(candidates ?? []).map((c) => c.optimizer)]) {
    try {
      createOptimizer(optimizer, 1, steps);
    } catch (error) {
      throw new TrainingRefusal('invalid_training', `optimizer: ${(error as Error).message}`);
    }
  }
  const setting = candidates
    ? searchTrainingSetting({ candidates, sampling, steps, privacy })
    : { q: samplingRate(sampling), steps, privacy };
  const plan = await planOrRefuse(options.plan, setting);
  const holdout =
    request.holdout &&
    heldOutPart({
      ...request.holdout,
      noise: heldOutNoise,
      delta: heldOutDelta,
      maxRowsPerPerson,
      candidates: candidates?.length,
    });
  const search = candidates
    ? searchCostWith({ candidates, sampling, steps, privacy }, plan, holdout!, maxRowsPerPerson)
    : undefined;
  const named = request.search?.method ?? 'cheaper';
  // Random stopping is priced for scores with discrete Laplace noise drawn by the gateway; a job over
  // node tables sums its scores over the nodes with a distributed Gaussian and searches by composition.
  if (named === 'random_stopping' && holdout?.noise === 'distributed_gaussian') {
    throw new TrainingRefusal(
      'invalid_training',
      'random stopping is not offered for jobs over node tables: search by composition',
    );
  }
  const randomStopping =
    search && holdout?.noise === 'discrete_laplace'
      ? priceRandomStopping({
          required: named === 'random_stopping',
          pricing: {
            q: plan.q,
            sigma: plan.sigma,
            steps,
            delta: plan.delta,
            selectionEpsilon: holdout.epsilon,
            maxRowsPerPerson,
            stopping: {
              eta: request.search?.eta ?? 1,
              gamma: request.search?.gamma ?? 1 / candidates!.length,
            },
            maxRuns: request.search?.max_runs,
          },
        })
      : undefined;
  const searchMethod = !search
    ? undefined
    : randomStopping &&
        (named === 'random_stopping' || (named === 'cheaper' && randomStopping.epsilon < search.epsilon))
      ? ('random_stopping' as const)
      : ('composition' as const);
  // Random stopping's one price covers its runs and their scores.
  const losses: PrivacyLoss[] =
    searchMethod === 'random_stopping'
      ? [{ kind: 'approx', epsilon: randomStopping!.epsilon, delta: randomStopping!.delta }]
      : [{ kind: 'approx', epsilon: plan.epsilon, delta: plan.delta }];
  if (holdout && searchMethod !== 'random_stopping') losses.push(holdout.loss);
  if (standardise) losses.push(standardise.loss);
  // The population count, when one is needed, counts against the job's limit too.
  const totalEpsilon =
    lossesEpsilon(losses, zcdpPartsOf({ standardise, holdout })) +
    (table.population ? 0 : (request.population_epsilon ?? 0));
  if (totalEpsilon > policy.limits.max_epsilon_per_job) {
    throw new TrainingRefusal(
      'epsilon_too_large',
      `this job costs ε = ${totalEpsilon.toFixed(4)}, above the policy's limit of ${policy.limits.max_epsilon_per_job} per job`,
    );
  }
  const columns = [
    ...features.map((feature) => `${columnSql(feature.name)} AS ${quote(feature.name)}`),
    `${labelSql} AS ${quote(label.name)}`,
  ];
  const person = joined ? `${quote(main.name)}.${quote(main.person)}` : quote(main.person);
  const from = joined
    ? [
        `${qualified(policy, main.name)} AS ${quote(main.name)}`,
        ...sources
          .slice(1)
          .map(
            (source) =>
              `JOIN ${qualified(policy, source.name)} AS ${quote(source.name)} ON ${person} = ${quote(source.name)}.${quote(source.person)}`,
          ),
      ].join(' ')
    : qualified(policy, main.name);
  const select = [`${person} AS ${quote(PERSON_COLUMN)}`, ...columns].join(', ');
  const pretrain = request.pretrain && {
    table: publicTableFor(policy, role, request),
    datasetSql: {
      text: `SELECT ${columns.join(', ')} FROM ${qualified(policy, request.pretrain.table)}`,
      parameters: [],
    },
    spec: {
      model,
      batchSize: request.pretrain.batch_size,
      epochs: request.pretrain.epochs,
      optimizer: spec.optimizer,
    },
  };
  return {
    table: request.table,
    schema: { features, label },
    datasetSql: { text: `SELECT ${select} FROM ${from}`, parameters: [] },
    maxRowsPerPerson,
    spec,
    plan,
    ...(holdout ? { holdout } : {}),
    ...(candidates && search ? { candidates, search, searchMethod } : {}),
    ...(randomStopping ? { randomStopping } : {}),
    ...(standardise ? { standardise } : {}),
    populationEpsilon: table.population ? null : (request.population_epsilon ?? null),
    stepsPerRun: steps,
    ...(pretrain ? { pretrain } : {}),
    losses,
    // Every person in the table may be in the training set: every community pays the run's cost.
    communities: Object.keys(policy.budgets).sort(),
  };
}

/** The share of the job's δ that the standardisation's zCDP loss is stated at. */
export const STANDARDISE_DELTA_SHARE = 0.1;

/** The share of the job's δ at which a federated job's distributed-Gaussian held-out counts are stated. */
export const HELD_OUT_DELTA_SHARE = 0.1;

/**
 * The held-out part's cost. Pooled: discrete Laplace, pure ε (the evaluation's two counts, or a
 * search's k scores at ε/k each, basic composition). Federated: one vector of counts with a
 * distributed discrete Gaussian, ρ = the largest whose CKS20 Cor. 13 ε at the δ share is at most
 * the ε asked (the ledger is charged this ρ; the nodes' noise is planned to at most it).
 */
function heldOutPart(options: {
  readonly fraction: number;
  readonly epsilon: number;
  readonly noise: HeldOutNoise;
  readonly delta: number;
  readonly maxRowsPerPerson: number;
  readonly candidates: number | undefined;
}): HeldOutPart {
  const { fraction, epsilon, noise, delta, maxRowsPerPerson, candidates } = options;
  if (noise === 'distributed_gaussian') {
    const rho = zcdpBudget(epsilon, delta);
    return {
      fraction,
      epsilon,
      noise,
      loss: { kind: 'zcdp', rho },
      stated: { epsilon: zcdpToEpsilon(rho, delta), delta },
    };
  }
  const loss: PureLoss = candidates
    ? { kind: 'pure', epsilon: candidates * scoreLoss(epsilon / candidates, maxRowsPerPerson).epsilon }
    : privateEvaluationLoss(epsilon, maxRowsPerPerson);
  return { fraction, epsilon, noise, loss, stated: { epsilon: loss.epsilon, delta: 0 } };
}

/** A search's cost: its k·T-step training plan and the held-out part's k scores. */
function searchCostWith(
  setting: Parameters<typeof searchTrainingSetting>[0],
  plan: PrivacyPlan,
  holdout: HeldOutPart,
  maxRowsPerPerson: number,
): SearchCost {
  const k = setting.candidates.length;
  if (holdout.noise === 'discrete_laplace') {
    return searchCost(
      { ...setting, selection: { kind: 'private', epsilon: holdout.epsilon, maxRowsPerPerson } },
      plan,
    );
  }
  const { rho } = holdout.loss as ZcdpLoss;
  return {
    training: plan,
    selectionEpsilon: holdout.stated.epsilon,
    // One score alone: a coordinate of the vector, ρ/k (its sensitivity is 1/√k of the vector's).
    scoreEpsilon: zcdpToEpsilon(rho / k, holdout.stated.delta),
    epsilon: plan.epsilon + holdout.stated.epsilon,
    delta: plan.delta + holdout.stated.delta,
  };
}

/** A job's ρ parts (standardisation, federated held-out counts), each stated at its share of δ. */
export function zcdpPartsOf(parts: {
  readonly standardise?: StandardisationPart | undefined;
  readonly holdout?: HeldOutPart | undefined;
}): { readonly epsilon: number; readonly delta: number }[] {
  return [
    ...(parts.standardise ? [parts.standardise] : []),
    ...(parts.holdout?.noise === 'distributed_gaussian' ? [parts.holdout.stated] : []),
  ];
}

export interface StandardisationPart {
  readonly loss: ZcdpLoss;
  /** zcdpToEpsilon(ρ, δ_s): the part's ε in the job's total. */
  readonly epsilon: number;
  readonly delta: number;
}

/** ρ for ε at δ_s (CKS20 Cor. 13), then the mechanism's own loss, stated back at δ_s. */
function standardisationPart(
  epsilon: number,
  delta: number,
  featureCount: number,
  maxRowsPerPerson: number,
): StandardisationPart {
  const share = delta * STANDARDISE_DELTA_SHARE;
  let loss: ZcdpLoss;
  try {
    loss = standardisationLoss(zcdpBudget(epsilon, share), featureCount, maxRowsPerPerson);
  } catch {
    throw new TrainingRefusal(
      'invalid_training',
      `standardise.epsilon ${epsilon} is too small for ${featureCount} features at ${maxRowsPerPerson} rows per person: the noise would be out of range`,
    );
  }
  return { loss, epsilon: zcdpToEpsilon(loss.rho, share), delta: share };
}

/** The job's ε from its losses: (ε, δ) and pure parts add, each ρ part at its δ share. */
function lossesEpsilon(
  losses: readonly PrivacyLoss[],
  parts: readonly { readonly epsilon: number }[],
): number {
  return (
    losses.reduce((sum, loss) => sum + (loss.kind === 'zcdp' ? 0 : loss.epsilon), 0) +
    parts.reduce((sum, part) => sum + part.epsilon, 0)
  );
}

/**
 * The random-stopping price, or nothing when it cannot be priced (too many runs at this δ), in which
 * case a request that named random stopping is refused at no cost.
 */
function priceRandomStopping(options: {
  readonly required: boolean;
  readonly pricing: Parameters<typeof randomStoppingCost>[0];
}): RandomStoppingCost | undefined {
  try {
    return randomStoppingCost(options.pricing);
  } catch (error) {
    if (!options.required) return undefined;
    // The message names only public settings (η, γ, δ and the run limit).
    throw new TrainingRefusal('invalid_training', `random stopping: ${(error as Error).message}`);
  }
}

/** The plan, or a refusal (at no cost) when the accountant cannot account for the setting. */
async function planOrRefuse(plan: Planner, setting: PlanSetting): Promise<PrivacyPlan> {
  try {
    return await plan(setting);
  } catch {
    // The setting comes from the request and the policy alone, never from data.
    throw new TrainingRefusal(
      'invalid_training',
      `the ${setting.privacy.accountant} accountant cannot account for this setting (q = ${setting.q.toPrecision(4)}, ${setting.steps} steps): ask for more noise or fewer steps`,
    );
  }
}

/**
 * The cost as the job states it: the total charged for the job (training, and evaluation or
 * selection on held-out persons, composed by addition) and each part. A DP count of persons, when
 * the job needed one, was charged on its own before; it is listed as a part and not in the total.
 * A search by random stopping is one mechanism (its runs and scores under one theorem): its price
 * is `selection.epsilon`, and its training and held-out parts state what runs, with no ε of their own.
 */
export function jobCost(resolved: ResolvedTraining) {
  const { plan, search, standardise, randomStopping } = resolved;
  const epsilon = lossesEpsilon(resolved.losses, zcdpPartsOf(resolved));
  const trainingEpsilon = epsilon - (standardise?.epsilon ?? 0);
  const candidates = resolved.candidates?.length ?? 1;
  const stopped = resolved.searchMethod === 'random_stopping' ? randomStopping : undefined;
  const training = stopped
    ? {
        epsilon: null,
        delta: stopped.delta,
        sigma: stopped.sigma,
        q: stopped.q,
        steps: stopped.runs * stopped.stepsPerRun,
        steps_per_candidate: stopped.stepsPerRun,
        accountant: 'rdp' as const,
      }
    : {
        epsilon: plan.epsilon,
        delta: plan.delta,
        sigma: plan.sigma,
        q: plan.q,
        steps: plan.steps,
        steps_per_candidate: resolved.stepsPerRun,
        accountant: plan.accountant,
      };
  return {
    epsilon,
    delta: training.delta + zcdpPartsOf(resolved).reduce((sum, part) => sum + part.delta, 0),
    accountant: training.accountant,
    training,
    held_out: resolved.holdout
      ? {
          fraction: resolved.holdout.fraction,
          purpose: resolved.candidates ? 'selection' : 'evaluation',
          epsilon: stopped ? null : trainingEpsilon - plan.epsilon,
        }
      : null,
    population_count: resolved.populationEpsilon === null ? null : { epsilon: resolved.populationEpsilon },
    candidates,
    standardisation: standardise
      ? { epsilon: standardise.epsilon, delta: standardise.delta, rho: standardise.loss.rho }
      : null,
    selection: search
      ? {
          method: resolved.searchMethod!,
          ...(stopped
            ? {
                epsilon: stopped.epsilon,
                delta: stopped.delta,
                score_epsilon: stopped.scoreEpsilon,
                runs: stopped.runs,
                eta: stopped.eta,
                gamma: stopped.gamma,
                mean_counted_runs: stopped.meanRuns,
                tail_probability: stopped.tail,
                rdp_order: stopped.order,
              }
            : { epsilon: search.epsilon, score_epsilon: search.scoreEpsilon, runs: candidates }),
          // What each method would cost for this request (null: random stopping could not be priced).
          prices: {
            composition: search.epsilon,
            random_stopping: randomStopping?.epsilon ?? null,
          },
        }
      : null,
  };
}

/** Whether the job must first release a DP count of the table's persons. */
export function needsPopulationEstimate(policy: Policy, request: TrainingRequest): boolean {
  const table = policy.tables[request.table];
  return (
    table !== undefined && !table.public && !table.population && request.population_epsilon !== undefined
  );
}

/** A policy table as SQL, schema and name quoted. */
function qualified(policy: Policy, table: string): string {
  return `${quote(policy.tables[table]?.schema ?? DEFAULT_SCHEMA)}.${quote(table)}`;
}

/** SELECT the number of distinct persons of the training table (sensitivity 1 under add/remove). */
export function personCountSql(policy: Policy, request: TrainingRequest): RewrittenSql {
  const table = policy.tables[request.table]!;
  const person = quote(personColumnOf(policy, request.table, table));
  return {
    text: `SELECT count(DISTINCT ${person})::int AS persons FROM ${qualified(policy, request.table)}`,
    parameters: [],
  };
}

/** The public table a request pre-trains on: readable, public, and holding every column the model reads. */
function publicTableFor(policy: Policy, role: Role, request: TrainingRequest): string {
  const name = request.pretrain!.table;
  const table = readableTable(policy, role, name);
  if (!table.public)
    throw new TrainingRefusal('invalid_training', `"${name}" is not public: pre-training must cost nothing`);
  for (const column of [...request.features, request.label]) readableColumn(table, name, column);
  return name;
}

/** A table of the policy that this role may read. */
function readableTable(policy: Policy, role: Role, name: string): TablePolicy {
  const table = policy.tables[name];
  if (!table) throw new TrainingRefusal('unknown_table', `there is no table "${name}" in the commons`);
  if (!(policy.access[role]?.tables ?? []).includes(name)) {
    throw new TrainingRefusal('not_allowed', `the ${role} role may not read "${name}"`);
  }
  return table;
}

interface TrainingSource {
  readonly name: string;
  readonly policy: TablePolicy;
  /** The column naming each row's person. */
  readonly person: string;
}

/** A private table the role may read, with the column that names each row's person. */
function trainingSource(policy: Policy, role: Role, name: string): TrainingSource {
  const table = readableTable(policy, role, name);
  if (table.public) {
    throw new TrainingRefusal(
      'invalid_training',
      `"${name}" is public: train on it without a budget, then fine-tune privately`,
    );
  }
  return { name, policy: table, person: personColumnOf(policy, name, table) };
}

interface LocatedColumn {
  readonly column: ColumnPolicy;
  /** The dataset's name for it: `table.column` when tables are joined, else `column`. */
  readonly name: string;
}

function locateColumn(sources: readonly TrainingSource[], reference: string, joined: boolean): LocatedColumn {
  const [tableName, columnName] = reference.includes('.') ? reference.split('.') : [undefined, reference];
  const candidates = sources.filter((source) =>
    tableName ? source.name === tableName : isExposed(source.policy.columns[columnName!]),
  );
  if (tableName && candidates.length === 0) {
    throw new TrainingRefusal('unknown_table', `"${tableName}" is not among the tables this job reads`);
  }
  if (candidates.length === 0)
    throw new TrainingRefusal(
      'unknown_column',
      `no table of this job has a column "${columnName}" in policy`,
    );
  if (candidates.length > 1) {
    throw new TrainingRefusal(
      'invalid_training',
      `"${columnName}" is in ${candidates.map((c) => c.name).join(' and ')}: write table.column`,
    );
  }
  const source = candidates[0]!;
  return {
    column: readableColumn(source.policy, source.name, columnName!),
    name: joined ? `${source.name}.${columnName}` : columnName!,
  };
}

/** SQL for a dataset column name: `"table"."column"` for joined tables, else `"column"`. */
function columnSql(name: string): string {
  return name.split('.').map(quote).join('.');
}

/** The column that names each row's person: the unit itself, or the first hop of a one-hop path. */
function personColumnOf(policy: Policy, name: string, table: TablePolicy): string {
  if (name === policy.privacy_unit.table) return policy.privacy_unit.column;
  const path = table.unit_path ?? [];
  if (path.length !== 1)
    throw new TrainingRefusal(
      'invalid_training',
      `training reads tables one foreign key away from the privacy unit; "${name}" is further`,
    );
  return parseUnitHop(path[0]!).column;
}

function isExposed(column: ColumnPolicy | undefined): column is ColumnPolicy {
  return column !== undefined && !column.hidden;
}

function readableColumn(table: TablePolicy, tableName: string, name: string): ColumnPolicy {
  const column = table.columns[name];
  // A hidden column is refused exactly as a missing one, so its name cannot be probed.
  if (!isExposed(column))
    throw new TrainingRefusal('unknown_column', `"${tableName}" has no column "${name}" in policy`);
  return column;
}

/**
 * The label's encoding, from policy alone: public values {0, 1} → binary; another public integer
 * range or list → a class index; numeric bounds → a bounded regression target.
 */
function labelOf({ column, name }: LocatedColumn): { label: LabelSpec; labelSql: string } {
  const sqlName = columnSql(name);
  const values = column.public_values;
  if (values && values.length === 2 && values.includes(0) && values.includes(1))
    return { label: { kind: 'binary', name }, labelSql: sqlName };
  if (column.public_range) {
    const [from, to] = column.public_range;
    return { label: { kind: 'class', name, classes: to - from + 1 }, labelSql: `(${sqlName} - ${from})` };
  }
  if (values?.every((value) => typeof value === 'number')) {
    const cases = values.map((value, index) => `WHEN ${Number(value)} THEN ${index}`).join(' ');
    return {
      label: { kind: 'class', name, classes: values.length },
      labelSql: `(CASE ${sqlName} ${cases} END)`,
    };
  }
  if ((column.type === 'int' || column.type === 'real') && column.bounds) {
    return {
      label: { kind: 'bounded', name, lower: Number(column.bounds[0]), upper: Number(column.bounds[1]) },
      labelSql: sqlName,
    };
  }
  throw new TrainingRefusal(
    'unbounded_column',
    `label "${name}" needs public values or numeric bounds in policy`,
  );
}

function optimizerSpec(optimizer: OptimizerRequest): OptimizerSpec {
  const schedule = optimizer.schedule;
  const common = {
    learningRate: optimizer.learning_rate,
    ...(optimizer.weight_decay === undefined ? {} : { weightDecay: optimizer.weight_decay }),
    ...(schedule === undefined
      ? {}
      : {
          schedule:
            schedule.kind === 'cosine'
              ? {
                  kind: 'cosine' as const,
                  ...(schedule.warmup_steps === undefined ? {} : { warmupSteps: schedule.warmup_steps }),
                  ...(schedule.final_fraction === undefined
                    ? {}
                    : { finalFraction: schedule.final_fraction }),
                }
              : schedule,
        }),
  };
  if (optimizer.kind === 'adam')
    return {
      kind: 'adam',
      ...common,
      ...(optimizer.beta1 === undefined ? {} : { beta1: optimizer.beta1 }),
      ...(optimizer.beta2 === undefined ? {} : { beta2: optimizer.beta2 }),
      ...(optimizer.epsilon === undefined ? {} : { epsilon: optimizer.epsilon }),
    };
  return {
    kind: 'sgd',
    ...common,
    ...(optimizer.momentum === undefined ? {} : { momentum: optimizer.momentum }),
  };
}

function modelSpec(model: ModelRequest, label: LabelSpec): ModelSpec {
  const fits =
    model.kind === 'mlp' ||
    (model.kind === 'logistic' && label.kind === 'binary') ||
    (model.kind === 'softmax' && label.kind === 'class') ||
    (model.kind === 'linear' && label.kind === 'bounded');
  if (!fits)
    throw new TrainingRefusal('invalid_training', `a ${model.kind} model does not fit a ${label.kind} label`);
  if (model.kind === 'softmax')
    return { kind: 'softmax', classes: label.kind === 'class' ? label.classes : 2 };
  if (model.kind === 'mlp') {
    const output =
      label.kind === 'binary'
        ? ({ kind: 'binary' } as const)
        : label.kind === 'class'
          ? ({ kind: 'multiclass', classes: label.classes } as const)
          : ({ kind: 'regression' } as const);
    return { kind: 'mlp', hidden: model.hidden, activation: model.activation, output };
  }
  return { kind: model.kind };
}

/** Policy identifiers are lower-case SQL names (policy schema), so quoting them is exact. */
function quote(identifier: string): string {
  return `"${identifier}"`;
}
