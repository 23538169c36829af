/**
 * From a training request to the privacy parameters of the run and its cost, by the DP core's
 * accountants (src/dp/accounting): σ calibrated to a target (ε, δ), or ε computed from a given σ.
 * The ε reported is always dpSgdEpsilon(q, σ, steps, δ) of the chosen accountant, so a job's charge
 * is exactly what the DP core says for its setting.
 */
import { type AccountantName, dpSgdEpsilon, dpSgdSigma } from '../dp/accounting/index.ts';

export type PrivacyRequest =
  | { readonly accountant: AccountantName; readonly delta: number; readonly epsilon: number }
  | { readonly accountant: AccountantName; readonly delta: number; readonly noiseMultiplier: number };

export interface PrivacyPlan {
  readonly q: number;
  readonly sigma: number;
  readonly steps: number;
  readonly delta: number;
  readonly accountant: AccountantName;
  readonly epsilon: number;
}

/** The run's (q, σ, steps, δ) and its ε by the named accountant. */
export function planPrivacy(options: {
  readonly q: number;
  readonly steps: number;
  readonly privacy: PrivacyRequest;
}): PrivacyPlan {
  const { q, steps, privacy } = options;
  const { accountant, delta } = privacy;
  const sigma =
    'noiseMultiplier' in privacy
      ? privacy.noiseMultiplier
      : dpSgdSigma({ epsilon: privacy.epsilon, delta, q, steps, accountant }).sigma;
  const epsilon = dpSgdEpsilon({ q, sigma, steps, delta }, accountant);
  return { q, sigma, steps, delta, accountant, epsilon };
}

/**
 * ε spent after `stepsDone` steps, for progress reports. Steps are public, so this reveals nothing.
 * The PLD accountant takes about a second per call, so progress always uses RDP, which is also a
 * valid upper bound on the true ε (for a PLD job the final charge may be a little lower).
 */
export function epsilonAfter(
  plan: PrivacyPlan,
  stepsDone: number,
): { epsilon: number; accountant: AccountantName } {
  if (stepsDone === 0) return { epsilon: 0, accountant: 'rdp' };
  const setting = { q: plan.q, sigma: plan.sigma, steps: stepsDone, delta: plan.delta };
  return { epsilon: dpSgdEpsilon(setting, 'rdp'), accountant: 'rdp' };
}
