/**
 * The random-stopping price against exact computation: for a base mechanism Q with a few ordered
 * outputs, the best of K runs has P[best ≤ y] = E[F(y)^K], so its law, and its Rényi and
 * hockey-stick divergences, can be summed exactly. Theorem 2's ε'(λ) must bound the Rényi
 * divergence of the best of K; the (ε, δ) of the job's price must bound the hockey-stick
 * divergence of the best of min(K, N). And at very large orders, Theorem 2 with a pure ε-DP Q
 * gives the paper's Corollary 3, (2 + η)ε (3ε for a geometric K, Liu & Talwar's figure).
 */
import { describe, expect, it } from 'vitest';
import { randomStoppingPrice, randomStoppingRdp } from '../../src/dp/accounting/random-stopping.ts';
import { type StoppingDistribution, stoppingDistribution } from '../../src/dp/stopping-distribution.ts';

/** Randomized response over ordered outputs 0…m−1: weight e^ε on the output `favoured`. */
function randomizedResponse(outputs: number, favoured: number, epsilon: number): number[] {
  const weights = Array.from({ length: outputs }, (_, y) => (y === favoured ? Math.exp(epsilon) : 1));
  const total = weights.reduce((a, b) => a + b);
  return weights.map((w) => w / total);
}

/** The law of the best (largest) of K runs of Q, K' = min(K, runs) when `runs` is given. */
function bestOf(q: readonly number[], law: StoppingDistribution, runs = Number.POSITIVE_INFINITY): number[] {
  const pmf = pmfOf(law);
  const pgf = (x: number): number => {
    let sum = 0;
    let beyond = 1;
    for (let k = 1; k < pmf.length; k++) {
      const p = pmf[k]!;
      if (k >= runs) return sum + beyond * x ** k;
      sum += p * x ** k;
      beyond -= p;
    }
    return sum;
  };
  let cdf = 0;
  let previous = 0;
  return q.map((mass) => {
    cdf += mass;
    const below = pgf(Math.min(1, cdf));
    const out = below - previous;
    previous = below;
    return out;
  });
}

const pmfs = new Map<StoppingDistribution, number[]>();

/** P[K = k] for k < 5000, computed once per law. */
function pmfOf(law: StoppingDistribution): number[] {
  let pmf = pmfs.get(law);
  if (!pmf) {
    pmf = Array.from({ length: 5000 }, (_, k) => law.probability(k));
    pmfs.set(law, pmf);
  }
  return pmf;
}

function renyi(p: readonly number[], q: readonly number[], order: number): number {
  const moment = p.reduce((sum, pi, i) => sum + pi ** order * q[i]! ** (1 - order), 0);
  return Math.log(moment) / (order - 1);
}

function hockeyStick(p: readonly number[], q: readonly number[], epsilon: number): number {
  return p.reduce((sum, pi, i) => sum + Math.max(0, pi - Math.exp(epsilon) * q[i]!), 0);
}

const ORDERS = [1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];

describe('random stopping (Papernot & Steinke 2022, Thm. 2)', () => {
  const pairs = [
    // Two outputs, and three where the neighbour favours the other end.
    { p: randomizedResponse(2, 1, 0.5), q: randomizedResponse(2, 0, 0.5) },
    { p: randomizedResponse(3, 2, 1), q: randomizedResponse(3, 0, 1) },
  ];
  const laws = [
    stoppingDistribution({ eta: 1, gamma: 0.1 }),
    stoppingDistribution({ eta: 0, gamma: 0.05 }),
    stoppingDistribution({ eta: 0.5, gamma: 0.2 }),
  ];

  it('bounds the exact Rényi divergence of the best of K, both ways, at every order', () => {
    for (const { p, q } of pairs) {
      const base = ORDERS.map((order) => Math.max(renyi(p, q, order), renyi(q, p, order)));
      for (const law of laws) {
        const bound = randomStoppingRdp(base, ORDERS, law);
        const [bestP, bestQ] = [bestOf(p, law), bestOf(q, law)];
        ORDERS.forEach((order, i) => {
          const exact = Math.max(renyi(bestP, bestQ, order), renyi(bestQ, bestP, order));
          expect(exact).toBeLessThanOrEqual(bound[i]!);
        });
      }
    }
  });

  it('prices the best of min(K, N) within its (ε, δ), for the N it chooses', () => {
    const { p, q } = pairs[1]!;
    const orders = [...ORDERS, 96, 128, 256];
    const base = orders.map((order) => Math.max(renyi(p, q, order), renyi(q, p, order)));
    for (const law of laws) {
      const price = randomStoppingPrice({
        baseRdp: base,
        orders,
        distribution: law,
        delta: 1e-3,
        maxRuns: 2000,
      });
      expect(price.delta).toBeLessThanOrEqual(1e-3 * (1 + 1e-12));
      // N is the least run count whose tail fits the truncation's share of δ.
      expect((1 + Math.exp(price.epsilon)) * law.tailAbove(price.runs)).toBeLessThanOrEqual(1e-4);
      expect((1 + Math.exp(price.epsilon)) * law.tailAbove(price.runs - 1)).toBeGreaterThan(1e-4);
      const [truncatedP, truncatedQ] = [bestOf(p, law, price.runs), bestOf(q, law, price.runs)];
      expect(hockeyStick(truncatedP, truncatedQ, price.epsilon)).toBeLessThanOrEqual(price.delta);
      expect(hockeyStick(truncatedQ, truncatedP, price.epsilon)).toBeLessThanOrEqual(price.delta);
    }
  });

  it('gives Corollary 3 for a pure ε-DP Q as the order grows: (2 + η)ε, 3ε for a geometric K', () => {
    const epsilon = 0.5;
    const huge = [1e12];
    for (const eta of [0, 0.5, 1, 2]) {
      const law = stoppingDistribution({ eta, gamma: 0.01 });
      const [bound] = randomStoppingRdp([epsilon], huge, law);
      expect(bound).toBeCloseTo((2 + eta) * epsilon, 6);
    }
  });

  it('costs log E[K]/(λ − 1) on top of the λ̂ terms: the formula at one order, by hand', () => {
    // η = 1, γ = 0.1: E[K] = 10. At λ = 2 with ε(2) = 0.3 and λ̂ = 4 with ε(4) = 0.5 on the grid:
    // λ̂ = 2 gives 2·(0.5·0.3 + log 10/2) = 2.6026; λ̂ = 4 gives 2·(0.75·0.5 + log 10/4) = 1.8963.
    const law = stoppingDistribution({ eta: 1, gamma: 0.1 });
    const [atTwo] = randomStoppingRdp([0.3, 0.5], [2, 4], law);
    const hat = 2 * (0.75 * 0.5 + Math.log(1 / law.gamma) / 4);
    expect(atTwo).toBeCloseTo(0.3 + hat + Math.log(law.mean), 12);
    expect(law.mean).toBeCloseTo(10, 6);
  });
});
