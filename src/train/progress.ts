/**
 * Progress of a training run, as the job reports it. Every field is a function of public values
 * (step counts, q, the public population size, the accountant) and wall time, never of private data
 * without noise: no loss, no accuracy, not even the realised batch sizes (throughput is counted in
 * EXPECTED examples, steps·q·N). Wall time itself is a timing side channel on the realised batch
 * sizes; docs/training.md says so.
 */
import type { AccountantName } from '../dp/accounting/index.ts';

export interface TrainingProgress {
  readonly step: number;
  readonly steps: number;
  /** Expected passes over the data so far: step·q. */
  readonly epoch: number;
  /** ε spent by the steps done so far (an upper bound, by `epsilonAccountant`). */
  readonly epsilonSpent: number;
  readonly epsilonAccountant: AccountantName;
  /** Expected sampled persons per second: step·q·N / elapsed (realised batch sizes are private). */
  readonly examplesPerSecond: number;
}

/** Progress of one candidate of a hyperparameter search; ε spent counts all candidates so far. */
export interface SearchProgress extends TrainingProgress {
  /** 0-based index of the candidate training now. */
  readonly candidate: number;
  readonly candidates: number;
}

export interface ProgressReporter {
  stepDone(step: number): void;
}

export interface ProgressOptions {
  readonly steps: number;
  readonly q: number;
  readonly expectedBatchSize: number;
  readonly intervalMs?: number | undefined;
  readonly epsilonAfter: (steps: number) => { epsilon: number; accountant: AccountantName };
  readonly onProgress?: ((progress: TrainingProgress) => void) | undefined;
}

const DEFAULT_INTERVAL_MS = 500;

export function progressReporter(options: ProgressOptions): ProgressReporter {
  const { onProgress, steps, q, expectedBatchSize } = options;
  if (onProgress === undefined) return { stepDone: () => {} };
  const interval = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const started = performance.now();
  let lastReport = started;
  return {
    stepDone: (step) => {
      const now = performance.now();
      if (step < steps && now - lastReport < interval) return;
      lastReport = now;
      const spent = options.epsilonAfter(step);
      onProgress({
        step,
        steps,
        epoch: step * q,
        epsilonSpent: spent.epsilon,
        epsilonAccountant: spent.accountant,
        examplesPerSecond: (step * expectedBatchSize) / Math.max((now - started) / 1000, 1e-9),
      });
    },
  };
}
