import { describe, expect, it } from 'vitest';
import { AccountingInputError, dpSgdEpsilon, dpSgdSigma } from '../../src/dp/accounting/index.ts';

describe('DP-SGD σ calibration', () => {
  const request = { epsilon: 1, delta: 1e-5, q: 0.01, steps: 10_000 };

  it.each(['rdp', 'pld'] as const)('%s: ε(σ*) ≤ target and ε(σ*·(1 − tol)) > target', (accountant) => {
    const tolerance = 1e-3;
    const { sigma, epsilon } = dpSgdSigma({ ...request, accountant, tolerance });
    const at = (s: number) =>
      dpSgdEpsilon({ q: request.q, sigma: s, steps: request.steps, delta: request.delta }, accountant);
    expect(epsilon).toBe(at(sigma));
    expect(epsilon).toBeLessThanOrEqual(request.epsilon);
    expect(at(sigma * (1 - tolerance))).toBeGreaterThan(request.epsilon);
  });

  // Abadi et al. 2016 §3.1: σ = 4 gives ε ≈ 1.04 by RDP and ≈ 0.95 by PLD at this q, T, δ, so the
  // σ for ε = 1 lies a little above 4 for RDP and below 4 for PLD.
  it('the PLD needs less noise than RDP for the same target', () => {
    const rdp = dpSgdSigma({ ...request, accountant: 'rdp' }).sigma;
    const pld = dpSgdSigma({ ...request, accountant: 'pld' }).sigma;
    expect(rdp).toBeGreaterThan(4);
    expect(pld).toBeLessThan(4);
  });

  it('rejects impossible inputs with a typed error', () => {
    expect(() => dpSgdSigma({ ...request, q: 0, accountant: 'rdp' })).toThrow(AccountingInputError);
    expect(() => dpSgdSigma({ ...request, epsilon: -1, accountant: 'rdp' })).toThrow(AccountingInputError);
    expect(() => dpSgdSigma({ ...request, steps: 2.5, accountant: 'rdp' })).toThrow(AccountingInputError);
  });
});
