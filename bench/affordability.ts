/**
 * What one community can afford under each accounting mode, for the same workloads: the table in
 * docs/accounting.md. Run: `npx tsx bench/affordability.ts`. Pure computation, no database.
 */
import { dpSgdEpsilonByRdp, dpSgdSigma, zcdpBudget } from '../src/dp/accounting/index.ts';
import {
  composeRdpCharges,
  dpSgdRdpCharge,
  NO_RDP_CHARGE,
  type RdpCharge,
  rdpBudget,
  rdpChargeFits,
  rdpChargeOf,
} from '../src/dp/accounting/rdp-ledger.ts';
import { type BudgetState, chargeAmounts, zcdpChargeFits } from '../src/ledger/budget-state.ts';
import { type ReleaseCost, releaseCost } from '../src/ledger/release-cost.ts';

const EPSILON = 10;
const DELTA = 1e-5;

interface Release {
  readonly name: string;
  readonly cost: ReleaseCost;
  readonly rdp: RdpCharge;
}

const laplace: Release = {
  name: 'COUNT, Laplace ε = 0.1',
  cost: releaseCost({ losses: [{ kind: 'pure', epsilon: 0.1 }], mechanism: 'discrete_laplace' }),
  rdp: rdpChargeOf([{ kind: 'pure', epsilon: 0.1 }]),
};
const gaussianRho = zcdpBudget(0.5, 1e-7);
const gaussian: Release = {
  name: 'SUM, Gaussian (ε, δ) = (0.5, 1e-7)',
  cost: releaseCost({
    losses: [{ kind: 'zcdp', rho: gaussianRho }],
    mechanism: 'discrete_gaussian',
    zcdpDelta: 1e-7,
  }),
  rdp: rdpChargeOf([{ kind: 'zcdp', rho: gaussianRho }]),
};
const jobSetting = (() => {
  const q = 0.01;
  const steps = 1000;
  const { sigma } = dpSgdSigma({ epsilon: 3, delta: DELTA, q, steps, accountant: 'rdp', tolerance: 1e-6 });
  return { q, sigma, steps };
})();
const jobEpsilon = dpSgdEpsilonByRdp({ ...jobSetting, delta: DELTA }).epsilon;
const job: Release = {
  name: `DP-SGD job, (ε, δ) = (3, 1e-5) (q = 0.01, T = 1000, σ = ${jobSetting.sigma.toFixed(3)})`,
  cost: releaseCost({ losses: [{ kind: 'approx', epsilon: jobEpsilon, delta: DELTA }], mechanism: 'dp_sgd' }),
  rdp: dpSgdRdpCharge(jobSetting),
};

type Mode = 'basic' | 'zcdp' | 'rdp';

/** How many of `repeat` fit after `first` (each charged while it fits), under a mode. */
function afford(mode: Mode, first: readonly Release[], repeat: Release): number | string {
  let state: BudgetState = {
    accounting: mode === 'rdp' ? 'zcdp' : mode,
    epsilonTotal: EPSILON,
    deltaTotal: DELTA,
    epsilonSpent: 0,
    deltaSpent: 0,
    rhoSpent: 0,
  };
  const budget = rdpBudget(EPSILON, DELTA);
  let spent = NO_RDP_CHARGE;
  const charge = (release: Release): boolean => {
    if (mode === 'rdp') {
      if (!rdpChargeFits(budget, spent, release.rdp)) return false;
      spent = composeRdpCharges([spent, release.rdp]);
      return true;
    }
    const amounts = chargeAmounts(state, release.cost);
    const next = {
      ...state,
      epsilonSpent: state.epsilonSpent + amounts.epsilon,
      deltaSpent: state.deltaSpent + amounts.delta,
      rhoSpent: state.rhoSpent + (amounts.rho ?? 0),
    };
    const fits =
      mode === 'basic'
        ? next.epsilonSpent <= EPSILON && next.deltaSpent <= DELTA
        : zcdpChargeFits(state, amounts);
    if (fits) state = next;
    return fits;
  };
  for (const release of first) if (!charge(release)) return 'refused';
  let count = 0;
  while (count < 100_000 && charge(repeat)) count++;
  return count;
}

const workloads: [string, Release[], Release][] = [
  [laplace.name, [], laplace],
  [gaussian.name, [], gaussian],
  [job.name, [], job],
  [`${gaussian.name}, after one job`, [job], gaussian],
  [`${laplace.name}, after one job`, [job], laplace],
];
console.log(
  `Budget (ε, δ) = (${EPSILON}, ${DELTA}); rdp filter order α = ${rdpBudget(EPSILON, DELTA).order}\n`,
);
console.log('| workload | basic | zcdp | rdp |');
console.log('|---|---|---|---|');
for (const [name, first, repeat] of workloads) {
  const cells = (['basic', 'zcdp', 'rdp'] as const).map((mode) => afford(mode, first, repeat));
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
