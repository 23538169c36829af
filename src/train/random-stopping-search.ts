/**
 * Hyperparameter search by private selection with random stopping (Papernot & Steinke 2022,
 * "Hyperparameter Tuning with Renyi Differential Privacy", ICLR, Thm. 2), run a fixed number of
 * times so that nothing observable depends on the number of runs that count.
 *
 * One run Q: a candidate drawn uniformly at random from the request's list (by the crypto RNG),
 * trained for T steps at the shared (q, σ), and scored by ONE noisy correct count on the held-out
 * persons at ε_score (private-evaluation.ts). Its output is (score, candidate, model), ordered by
 * score. Its RDP at order α is T·τ_SGM(α) (Mironov 2017 Prop. 1 over steps; the subsampled Gaussian
 * curve of Mironov, Talwar & Zhang 2019, the RDP accountant of src/dp/accounting) plus the score's
 * pure-DP curve (`pureRdp`, Steinke 2024 Thm. 4), added by composition. The candidate draw is part
 * of Q: a mixture over public choices of mechanisms that are each within that curve, so Q is too
 * (the Rényi moment E[(P/Q)^α] of a mixture with the same public weights is the weighted average).
 * Q's RDP comes from the RDP accountant whatever the job's accountant: Theorem 2 is a statement
 * about RDP, so a PLD job's random-stopping price is an RDP price (the card says so).
 *
 * The job: draw K ~ D_{η,γ} (stopping-distribution.ts), then ALWAYS run Q N times, N fixed by the
 * price (random-stopping.ts) before anything runs; release the best of the first min(K, N) runs
 * (ties to the earliest, which among exchangeable runs has the law of a uniformly random tie-break,
 * i.e. of the maximum under a total order refined by an independent tag). Every run trains and is
 * scored the same way and reports progress at the same plan-fixed steps, whether it counts or
 * not, so the job's events, its number of runs and its running time do not depend on K; the card
 * states only the released run (its candidate and its score), never K or the other scores.
 */
import { DEFAULT_RDP_ORDERS, subsampledGaussianRdp } from '../dp/accounting/index.ts';
import { type RandomStoppingPrice, randomStoppingPrice } from '../dp/accounting/random-stopping.ts';
import { pureRdp } from '../dp/accounting/rdp-ledger.ts';
import { cryptoRandom, type RandomSource, uniformInt } from '../dp/random.ts';
import { type StoppingDistribution, stoppingDistribution } from '../dp/stopping-distribution.ts';
import type { TrainingDataset } from './dataset.ts';
import { estimateStandardisation } from './feature-standardisation.ts';
import type { Candidate } from './hyperparameter-search.ts';
import { planFor, progressCheckpoints } from './privacy-plan.ts';
import { noisyCorrectCount, scoreLoss } from './private-evaluation.ts';
import type { RandomStoppingProgress } from './progress.ts';
import { type DpSgdResult, trainDpSgd } from './train-dp-sgd.ts';
import { type SamplingSpec, samplingRate } from './training-spec.ts';

/** Most runs a job may need: beyond it random stopping is refused (its compute would be absurd). */
export const MAX_RANDOM_STOPPING_RUNS = 1024;

export interface StoppingRequest {
  readonly eta: number;
  readonly gamma: number;
}

/** What a random-stopping search's price is a function of (no data). */
export interface RandomStoppingPricing {
  readonly q: number;
  readonly sigma: number;
  /** T, the steps of one run. */
  readonly steps: number;
  readonly delta: number;
  /** ε of each run's one score. */
  readonly selectionEpsilon: number;
  readonly maxRowsPerPerson: number;
  readonly stopping: StoppingRequest;
  /** Most runs the analyst accepts (compute, not privacy); at most MAX_RANDOM_STOPPING_RUNS. */
  readonly maxRuns?: number;
}

export interface RandomStoppingCost extends RandomStoppingPrice {
  readonly q: number;
  readonly sigma: number;
  readonly stepsPerRun: number;
  /** ε of one score (the mechanism's own loss at the requested ε). */
  readonly scoreEpsilon: number;
  /** η and γ as the sampler uses them (rounded), and E[K]. */
  readonly eta: number;
  readonly gamma: number;
  readonly meanRuns: number;
}

/** The price, before anything runs; RangeError when random stopping cannot be priced here. */
export function randomStoppingCost(pricing: RandomStoppingPricing): RandomStoppingCost {
  const distribution = stoppingDistribution(pricing.stopping);
  const scoreEpsilon = scoreLoss(pricing.selectionEpsilon, pricing.maxRowsPerPerson).epsilon;
  const mechanism = { q: pricing.q, sigma: pricing.sigma };
  const baseRdp = DEFAULT_RDP_ORDERS.map(
    (order) => pricing.steps * subsampledGaussianRdp(mechanism, order) + pureRdp(scoreEpsilon, order),
  );
  const price = randomStoppingPrice({
    baseRdp,
    orders: DEFAULT_RDP_ORDERS,
    distribution,
    delta: pricing.delta,
    maxRuns: Math.min(pricing.maxRuns ?? MAX_RANDOM_STOPPING_RUNS, MAX_RANDOM_STOPPING_RUNS),
  });
  return {
    ...price,
    // The truncation's share is computed to fit δ; rounding must not push the charge past it.
    delta: Math.min(price.delta, pricing.delta),
    q: pricing.q,
    sigma: pricing.sigma,
    stepsPerRun: pricing.steps,
    scoreEpsilon,
    eta: distribution.eta,
    gamma: distribution.gamma,
    meanRuns: distribution.mean,
  };
}

export interface RandomStoppingSpec {
  readonly candidates: readonly Candidate[];
  readonly sampling: SamplingSpec;
  readonly steps: number;
  readonly heldOut: TrainingDataset;
  readonly cost: RandomStoppingCost;
  readonly standardise?: { readonly rho: number };
}

export interface RandomStoppingResult {
  readonly best: DpSgdResult;
  /** The candidate the released model was trained with. */
  readonly bestIndex: number;
  /** The released model's noisy correct count (part of the released run's output). */
  readonly bestScore: number;
  readonly cost: RandomStoppingCost;
}

export interface RandomStoppingOptions {
  readonly random?: RandomSource;
  readonly onProgress?: (progress: RandomStoppingProgress) => void;
  readonly signal?: AbortSignal;
  /** The draw of K (tests force it); by default an exact draw from D_{η,γ} by `random`. */
  readonly drawStop?: (distribution: StoppingDistribution, random: RandomSource) => number;
}

export function randomStoppingSearch(
  spec: RandomStoppingSpec,
  dataset: TrainingDataset,
  options: RandomStoppingOptions = {},
): RandomStoppingResult {
  const random = options.random ?? cryptoRandom;
  const { cost, candidates, steps } = spec;
  const q = samplingRate(spec.sampling);
  if (q !== cost.q || steps !== cost.stepsPerRun) throw new RangeError('the cost is for another setting');
  const distribution = stoppingDistribution(cost);
  const draw = options.drawStop ?? ((law, source) => law.sample(source));
  const counted = Math.min(draw(distribution, random), cost.runs);
  const standardisation = spec.standardise
    ? { standardisation: estimateStandardisation(dataset, spec.standardise.rho, random) }
    : {};
  const privacy = { accountant: 'rdp' as const, delta: cost.delta, noiseMultiplier: cost.sigma };
  const runPlan = planFor({ q, steps, privacy }, undefined);
  const allSteps = cost.runs * steps;
  // Progress at plan-fixed steps of all N runs; each event states the whole charged ε, committed
  // before the first run (what is released is one output at the end, not a cost per run).
  const checkpoints = progressCheckpoints(allSteps);
  const epsilons = checkpoints.map(() => cost.epsilon);
  let best: { run: DpSgdResult; index: number; score: number } | undefined;
  for (let run = 0; run < cost.runs; run++) {
    const index = uniformInt(random, candidates.length);
    const { onProgress } = options;
    const trained = trainDpSgd({ ...candidates[index]!, sampling: spec.sampling, steps, privacy }, dataset, {
      random,
      plan: runPlan,
      signal: options.signal,
      ...standardisation,
      ...(onProgress
        ? {
            progressSchedule: { offset: run * steps, checkpoints, epsilons },
            onProgress: (step) => onProgress({ ...step, run, runs: cost.runs }),
          }
        : {}),
    });
    const score = noisyCorrectCount({
      model: trained,
      heldOut: spec.heldOut,
      epsilon: cost.scoreEpsilon,
      random,
    });
    if (run < counted && (best === undefined || score > best.score)) best = { run: trained, index, score };
  }
  const chosen = best!;
  const search = {
    method: 'random_stopping' as const,
    candidates: candidates.length,
    runs: cost.runs,
    epsilon: cost.epsilon,
    delta: cost.delta,
  };
  return {
    best: { ...chosen.run, card: { ...chosen.run.card, search } },
    bestIndex: chosen.index,
    bestScore: chosen.score,
    cost,
  };
}
