/**
 * The privacy-relevant parameters of a DP-SGD run (Abadi et al. 2016, Alg. 1, with Poisson
 * sampling): each step samples every record independently with probability q, clips each
 * per-example gradient to L2 norm C and adds N(0, σ²C²) noise to their sum. Neighbouring datasets
 * differ by adding or removing one person's records (a person is one example after contribution
 * bounding), so one step is the Poisson-subsampled Gaussian with sensitivity 1 in units of C.
 */
export interface DpSgdSetting {
  /** Sampling probability q ∈ (0, 1] (expected batch size / dataset size). */
  readonly q: number;
  /** Noise multiplier σ > 0. */
  readonly sigma: number;
  /** Number of steps T, a positive integer. */
  readonly steps: number;
  /** Target δ ∈ (0, 1). */
  readonly delta: number;
}

export type AccountantName = 'rdp' | 'pld';

export const ACCOUNTANT_NAMES: readonly AccountantName[] = ['rdp', 'pld'];

/** A rejected accounting input; `code` is stable for problem+json rendering at the edge. */
export class AccountingInputError extends Error {
  readonly code = 'invalid_accounting_input';
  override readonly name = 'AccountingInputError';
}

export function checkSamplingProbability(q: number): void {
  if (!(q > 0 && q <= 1)) throw new AccountingInputError(`q must be in (0, 1], got ${q}`);
}

export function checkNoiseMultiplier(sigma: number): void {
  if (!(sigma > 0 && Number.isFinite(sigma)))
    throw new AccountingInputError(`sigma must be > 0, got ${sigma}`);
}

export function checkSteps(steps: number): void {
  if (!(Number.isSafeInteger(steps) && steps > 0)) {
    throw new AccountingInputError(`steps must be a positive integer, got ${steps}`);
  }
}

export function checkDelta(delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new AccountingInputError(`delta must be in (0, 1), got ${delta}`);
}

export function checkEpsilon(epsilon: number): void {
  if (!(epsilon > 0 && Number.isFinite(epsilon))) {
    throw new AccountingInputError(`epsilon must be > 0, got ${epsilon}`);
  }
}

export function checkDpSgdSetting(setting: DpSgdSetting): void {
  checkSamplingProbability(setting.q);
  checkNoiseMultiplier(setting.sigma);
  checkSteps(setting.steps);
  checkDelta(setting.delta);
}
