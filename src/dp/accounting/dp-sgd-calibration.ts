import {
  type AccountantName,
  AccountingInputError,
  checkDelta,
  checkEpsilon,
  checkSamplingProbability,
  checkSteps,
  type DpSgdSetting,
} from './dp-sgd-setting.ts';
import { dpSgdEpsilonByPld } from './pld-accountant.ts';
import { dpSgdEpsilonByRdp } from './rdp-accountant.ts';

/** ε of a DP-SGD run by the named accountant; both are upper bounds on the true ε. */
export function dpSgdEpsilon(setting: DpSgdSetting, accountant: AccountantName): number {
  return accountant === 'rdp' ? dpSgdEpsilonByRdp(setting).epsilon : dpSgdEpsilonByPld(setting).epsilon;
}

export interface SigmaRequest {
  readonly epsilon: number;
  readonly delta: number;
  readonly q: number;
  readonly steps: number;
  readonly accountant: AccountantName;
  /** Relative width of the final bracket: σ·(1 − tolerance) already misses the target. Default 1e-3. */
  readonly tolerance?: number;
}

export interface CalibratedSigma {
  readonly sigma: number;
  /** The accountant's ε at `sigma` (≤ the target). */
  readonly epsilon: number;
}

const DEFAULT_TOLERANCE = 1e-3;
const SIGMA_RANGE = [1e-3, 1e6] as const;

/**
 * The smallest noise multiplier (up to `tolerance`) whose ε meets the target. ε is decreasing in
 * σ (a larger σ is a post-processing of a smaller one: add independent N(0, σ'² − σ²) noise), so
 * bisection on log σ applies. Invariant: ε(high) ≤ target < ε(low); we return `high`, so the
 * answer meets the target by construction, and high·(1 − tolerance) ≤ low when the loop stops.
 * PLD searches start from the RDP answer (PLD's σ is a few percent smaller), since each PLD
 * evaluation costs an FFT. If even σ = 1e-3 meets the target (huge ε or δ), that σ is returned.
 */
export function dpSgdSigma(request: SigmaRequest): CalibratedSigma {
  checkEpsilon(request.epsilon);
  checkDelta(request.delta);
  checkSamplingProbability(request.q);
  checkSteps(request.steps);
  const tolerance = request.tolerance ?? DEFAULT_TOLERANCE;
  if (!(tolerance > 0 && tolerance < 1))
    throw new AccountingInputError(`tolerance must be in (0, 1), got ${tolerance}`);
  const evaluated = new Map<number, number>();
  const meetsTarget = (sigma: number): boolean => {
    const setting = { q: request.q, sigma, steps: request.steps, delta: request.delta };
    const epsilon = dpSgdEpsilon(setting, request.accountant);
    evaluated.set(sigma, epsilon);
    return epsilon <= request.epsilon;
  };

  const start = request.accountant === 'pld' ? dpSgdSigma({ ...request, accountant: 'rdp' }).sigma : 1;
  const factor = request.accountant === 'pld' ? 1.25 : 2;
  let [low, high] = [start / factor, start];
  if (meetsTarget(start)) {
    while (meetsTarget(low) && low > SIGMA_RANGE[0]) [low, high] = [low / factor, low];
    if (low <= SIGMA_RANGE[0]) return { sigma: high, epsilon: evaluated.get(high)! };
  } else {
    [low, high] = [start, start * factor];
    while (!meetsTarget(high)) {
      if (high > SIGMA_RANGE[1])
        throw new RangeError(`no sigma ≤ ${SIGMA_RANGE[1]} meets ε=${request.epsilon}`);
      [low, high] = [high, high * factor];
    }
  }
  while (high * (1 - tolerance) > low) {
    const middle = Math.sqrt(low * high);
    if (meetsTarget(middle)) high = middle;
    else low = middle;
  }
  return { sigma: high, epsilon: evaluated.get(high)! };
}
