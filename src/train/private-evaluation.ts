/**
 * Accuracy of a released model on held-out PRIVATE rows, as two noisy counts: correct predictions
 * and rows. A person has at most m = maxRowsPerPerson rows in the held-out set, so adding or removing
 * one changes each count by at most m: the pair has L1 sensitivity 2m, and discrete Laplace noise of
 * scale 2m/ε on both is ε-DP (Ghosh, Roughgarden, Sundararajan 2009; exact sampler CKS20 Alg. 2).
 * The accuracy is post-processing of the two noisy counts. The caller charges `loss` first.
 *
 * To rank models on the SAME held-out rows, one count is enough: `noisyCorrectCount` releases the
 * number of correct predictions alone, sensitivity m, with discrete Laplace noise of scale m/ε.
 */
import { discreteLaplace, type PureLoss } from '../dp/discrete-laplace.ts';
import { cryptoRandom, type RandomSource } from '../dp/random.ts';
import type { TrainingDataset } from './dataset.ts';
import type { TrainedModel } from './model-card.ts';
import { countCorrect } from './predict.ts';

export interface PrivateEvaluation {
  readonly noisyCorrect: number;
  readonly noisyRows: number;
  /** noisyCorrect / noisyRows clamped to [0, 1] (0 when noisyRows ≤ 0). */
  readonly accuracy: number;
  readonly loss: PureLoss;
}

export function privateEvaluationLoss(epsilon: number, maxRowsPerPerson: number): PureLoss {
  return discreteLaplace({ scale: (2 * maxRowsPerPerson) / epsilon }).loss(2 * maxRowsPerPerson);
}

/** The ε-DP loss of one noisy correct count (a search's score) at ε, m rows per person. */
export function scoreLoss(epsilon: number, maxRowsPerPerson: number): PureLoss {
  return discreteLaplace({ scale: maxRowsPerPerson / epsilon }).loss(maxRowsPerPerson);
}

/** The number of held-out rows the model classifies correctly, with noise of scale m/ε: ε-DP. */
export function noisyCorrectCount(options: {
  readonly model: TrainedModel;
  readonly heldOut: TrainingDataset;
  readonly epsilon: number;
  readonly random?: RandomSource;
}): number {
  const { model, heldOut, epsilon } = options;
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new RangeError('epsilon must be > 0');
  const sensitivity = heldOut.maxRowsPerPerson;
  const mechanism = discreteLaplace({ scale: sensitivity / epsilon, random: options.random ?? cryptoRandom });
  return mechanism.release(countCorrect(model, heldOut));
}

/** The accuracy from the two noisy counts (post-processing): their ratio in [0, 1], 0 without rows. */
export function heldOutAccuracy(noisyCorrect: number, noisyRows: number): number {
  return noisyRows > 0 ? Math.min(1, Math.max(0, noisyCorrect / noisyRows)) : 0;
}

export function evaluatePrivately(options: {
  readonly model: TrainedModel;
  readonly heldOut: TrainingDataset;
  readonly epsilon: number;
  readonly random?: RandomSource;
}): PrivateEvaluation {
  const { model, heldOut, epsilon } = options;
  if (!(Number.isFinite(epsilon) && epsilon > 0)) throw new RangeError('epsilon must be > 0');
  const sensitivity = 2 * heldOut.maxRowsPerPerson;
  const mechanism = discreteLaplace({ scale: sensitivity / epsilon, random: options.random ?? cryptoRandom });
  const noisyCorrect = mechanism.release(countCorrect(model, heldOut));
  const noisyRows = mechanism.release(heldOut.rowCount);
  return {
    noisyCorrect,
    noisyRows,
    accuracy: heldOutAccuracy(noisyCorrect, noisyRows),
    loss: mechanism.loss(sensitivity),
  };
}
