import { describe, expect, it } from 'vitest';
import { RequestLimiter } from '../../src/http/request-limiter.ts';

function limiterAt(limits: { perMinute: number; burst: number; maxInFlight: number }) {
  let now = 0;
  const limiter = new RequestLimiter(limits, () => now);
  return { limiter, advance: (ms: number) => (now += ms) };
}

function admitAndRelease(limiter: RequestLimiter, key: string) {
  const admission = limiter.admit(key);
  if (admission.admitted) admission.release();
  return admission;
}

describe('RequestLimiter', () => {
  it('admits a burst, refuses the next with the seconds until a token is back, then refills', () => {
    const { limiter, advance } = limiterAt({ perMinute: 60, burst: 3, maxInFlight: 10 });
    for (let i = 0; i < 3; i++) expect(admitAndRelease(limiter, 'a').admitted).toBe(true);
    expect(admitAndRelease(limiter, 'a')).toEqual({ admitted: false, reason: 'rate', retryAfterSeconds: 1 });
    advance(999);
    expect(admitAndRelease(limiter, 'a').admitted).toBe(false);
    advance(1);
    expect(admitAndRelease(limiter, 'a').admitted).toBe(true);
    expect(admitAndRelease(limiter, 'a').admitted).toBe(false);
  });

  it('rounds Retry-After up to whole seconds at slow rates, and never refills past the burst', () => {
    const { limiter, advance } = limiterAt({ perMinute: 4, burst: 2, maxInFlight: 10 });
    admitAndRelease(limiter, 'a');
    admitAndRelease(limiter, 'a');
    expect(admitAndRelease(limiter, 'a')).toMatchObject({ retryAfterSeconds: 15 });
    advance(10 * 60_000);
    expect(admitAndRelease(limiter, 'a').admitted).toBe(true);
    expect(admitAndRelease(limiter, 'a').admitted).toBe(true);
    expect(admitAndRelease(limiter, 'a').admitted).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const { limiter } = limiterAt({ perMinute: 60, burst: 1, maxInFlight: 10 });
    expect(admitAndRelease(limiter, 'a').admitted).toBe(true);
    expect(admitAndRelease(limiter, 'a').admitted).toBe(false);
    expect(admitAndRelease(limiter, 'b').admitted).toBe(true);
  });

  it('caps requests in progress per key, without spending tokens on the ones it turns away', () => {
    const { limiter } = limiterAt({ perMinute: 60, burst: 3, maxInFlight: 2 });
    const first = limiter.admit('a');
    const second = limiter.admit('a');
    expect(limiter.admit('a')).toEqual({ admitted: false, reason: 'in_flight', retryAfterSeconds: 1 });
    expect(limiter.admit('b').admitted).toBe(true);
    if (!first.admitted || !second.admitted) throw new Error('expected both admitted');
    first.release();
    first.release(); // a second release must not free a slot it does not hold
    expect(limiter.admit('a').admitted).toBe(true);
    expect(limiter.admit('a')).toMatchObject({ admitted: false, reason: 'in_flight' });
    second.release();
    // Three tokens were spent by three admissions; the refusals spent none.
    expect(limiter.admit('a')).toMatchObject({ admitted: false, reason: 'rate' });
  });
});
