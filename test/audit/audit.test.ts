/**
 * The privacy auditor's short mode, run in the suite: every mechanism as a query or a training step
 * runs it shows no empirical ε above its claim (at 99.9% confidence), and the deliberately broken
 * mechanism is caught, so the auditor is known to have power. The long mode is `npm run audit:long`.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../support/seeded-random.ts';
import { audit, clopperPearsonLower, clopperPearsonUpper } from './auditor.ts';
import { halfNoiseTarget, SOUND_TARGETS } from './mechanisms.ts';

const SAMPLES = 20_000;

describe('Clopper–Pearson intervals', () => {
  it('match known values', () => {
    // 95% interval for 3 of 10 (Clopper & Pearson 1934 tables; scipy.stats.beta.ppf): [0.0667, 0.6525].
    expect(clopperPearsonLower(3, 10, 0.025)).toBeCloseTo(0.06673951, 6);
    expect(clopperPearsonUpper(3, 10, 0.025)).toBeCloseTo(0.65245285, 6);
    expect(clopperPearsonLower(0, 10, 0.025)).toBe(0);
    expect(clopperPearsonUpper(10, 10, 0.025)).toBe(1);
  });
});

describe('the privacy auditor (short mode)', () => {
  it.each(SOUND_TARGETS.map((target) => [target().name, target] as const))(
    '%s: no empirical ε above the claim',
    (_name, target) => {
      const result = audit(target(), SAMPLES, seededRandom(11));
      expect(result.epsilonLower).toBeLessThanOrEqual(result.claimedEpsilon);
    },
  );

  it('catches the mechanism with half the noise', () => {
    const result = audit(halfNoiseTarget(), SAMPLES, seededRandom(12));
    expect(result.epsilonLower).toBeGreaterThan(result.claimedEpsilon);
  });
});
