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

/** A run's sampling rate, steps and privacy request: what a plan is made from. */
export interface PlanSetting {
  readonly q: number;
  readonly steps: number;
  readonly privacy: PrivacyRequest;
}

/** The run's (q, σ, steps, δ) and its ε by the named accountant. */
export function planPrivacy(options: PlanSetting): PrivacyPlan {
  const { q, steps, privacy } = options;
  const { accountant, delta } = privacy;
  const sigma =
    'noiseMultiplier' in privacy
      ? privacy.noiseMultiplier
      : dpSgdSigma({ epsilon: privacy.epsilon, delta, q, steps, accountant }).sigma;
  const epsilon = dpSgdEpsilon({ q, sigma, steps, delta }, accountant);
  return { q, sigma, steps, delta, accountant, epsilon };
}

/** How many times a run reports progress (at most; fewer when it has fewer steps). */
export const PROGRESS_REPORTS = 20;

/**
 * The steps after which a run of `totalSteps` reports progress: ⌈j·T/n⌉ for j = 1…n. They depend on
 * the plan only, so when a report comes says nothing about the data (which reports arrive, and
 * with what values, is the same for every dataset of the same public size).
 */
export function progressCheckpoints(totalSteps: number, reports = PROGRESS_REPORTS): number[] {
  const count = Math.min(reports, totalSteps);
  return Array.from({ length: count }, (_, j) => Math.ceil(((j + 1) * totalSteps) / count));
}

/**
 * ε after each checkpoint, by the plan's own accountant (a PLD job reports PLD ε): the ε of the
 * Poisson-subsampled Gaussian mechanism composed over that many steps, a function of (q, σ, δ) and
 * the step count alone. The last checkpoint is the whole run, whose ε is the plan's, so progress
 * ends exactly at what the run was charged.
 */
export function epsilonSchedule(plan: PrivacyPlan, checkpoints: readonly number[]): number[] {
  return checkpoints.map((steps) =>
    steps >= plan.steps
      ? plan.epsilon
      : dpSgdEpsilon({ q: plan.q, sigma: plan.sigma, steps, delta: plan.delta }, plan.accountant),
  );
}

/** The checkpoints of the plan's whole run and its ε after each. */
export function progressSchedule(plan: PrivacyPlan): { checkpoints: number[]; epsilons: number[] } {
  const checkpoints = progressCheckpoints(plan.steps);
  return { checkpoints, epsilons: epsilonSchedule(plan, checkpoints) };
}

/** The plan, when one was made earlier (off the request path), checked to be this run's. */
export function planFor(input: PlanSetting, given: PrivacyPlan | undefined): PrivacyPlan {
  if (given === undefined) return planPrivacy(input);
  const { privacy } = input;
  const matches =
    given.q === input.q &&
    given.steps === input.steps &&
    given.delta === privacy.delta &&
    given.accountant === privacy.accountant &&
    ('noiseMultiplier' in privacy ? given.sigma === privacy.noiseMultiplier : true);
  if (!matches) throw new RangeError('the given privacy plan is for another setting');
  return given;
}
