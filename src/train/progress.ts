/**
 * Progress of a training run, as the job reports it. Every field is a function of the plan alone
 * (step counts, q, the public population size, the accountant's ε for that many steps): no loss, no
 * accuracy, no realised batch size and no measured time. Reports come at steps fixed by the plan
 * (privacy-plan.ts `progressCheckpoints`), not at wall-clock intervals, so which steps are reported
 * does not depend on how long a step took either. Step time depends on how many persons were sampled
 * and how many rows they have; a measured throughput would be a timing channel on private data.
 */
import type { AccountantName } from '../dp/accounting/index.ts';

export interface TrainingProgress {
  readonly step: number;
  readonly steps: number;
  /** Expected passes over the data so far: step·q. */
  readonly epoch: number;
  /** ε of the steps done so far (all candidates' steps in a search), by the job's own accountant. */
  readonly epsilonSpent: number;
  readonly epsilonAccountant: AccountantName;
  /** Expected persons per step, q·N: the plan's throughput, never a measured one. */
  readonly expectedExamplesPerStep: number;
}

/** Progress of one candidate of a hyperparameter search; ε spent counts all candidates so far. */
export interface SearchProgress extends TrainingProgress {
  /** 0-based index of the candidate training now. */
  readonly candidate: number;
  readonly candidates: number;
}

/**
 * Progress of one run of a random-stopping search: which of the fixed N runs is training, never
 * which candidate it drew (the draws are the mechanism's internal randomness); ε spent is the whole
 * search's charge, committed before the first run.
 */
export interface RandomStoppingProgress extends TrainingProgress {
  /** 0-based index of the run training now. */
  readonly run: number;
  readonly runs: number;
}

export interface ProgressReporter {
  stepDone(step: number): void;
}

export interface ProgressOptions {
  /** Steps of this run. */
  readonly steps: number;
  readonly q: number;
  readonly expectedBatchSize: number;
  /** Steps of the same plan done before this run (earlier candidates of a search). */
  readonly offset?: number;
  /** Steps of the whole plan after which to report, with the plan's ε after each. */
  readonly checkpoints: readonly number[];
  readonly epsilons: readonly number[];
  readonly accountant: AccountantName;
  readonly onProgress?: ((progress: TrainingProgress) => void) | undefined;
}

export function progressReporter(options: ProgressOptions): ProgressReporter {
  const { onProgress, steps, q, expectedBatchSize, checkpoints, epsilons, accountant } = options;
  if (onProgress === undefined) return { stepDone: () => {} };
  const offset = options.offset ?? 0;
  const epsilonAt = new Map(checkpoints.map((checkpoint, i) => [checkpoint, epsilons[i]!]));
  return {
    stepDone: (step) => {
      const epsilonSpent = epsilonAt.get(offset + step);
      if (epsilonSpent === undefined) return;
      onProgress({
        step,
        steps,
        epoch: step * q,
        epsilonSpent,
        epsilonAccountant: accountant,
        expectedExamplesPerStep: expectedBatchSize,
      });
    },
  };
}
