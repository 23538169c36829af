import { beforeAll, expect, it } from 'vitest';
import { authenticateKey } from '../../src/principals/api-keys.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { charge as chargeNow, pureCharge } from '../support/ledger.ts';

describeEachDatabase('communities and their ledgers', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  const get = (path: string, key: string) => t.app.request(path, { headers: t.bearer(key) });

  beforeAll(async () => {
    t = await createTestApp(database());
    const analyst = (await authenticateKey(database().db, t.keys.analyst))!;
    const descriptions = [
      'SELECT COUNT(*) FROM people',
      '=HYPERLINK("http://x")',
      'SELECT AVG(age) FROM people',
      'SELECT "a,b" FROM people',
    ];
    for (const [i, description] of descriptions.entries()) {
      await chargeNow(
        database().db,
        pureCharge(i === 0 ? ['riverside', 'hillcrest', 'lakeside'] : ['riverside'], 0.5, {
          principal: analyst,
          kind: i === 3 ? 'training' : 'query',
          description,
          policyVersion: t.policies.current.version,
        }),
      );
    }
  });

  it('shows every signed-in role each community’s budget, spend and remainder', async () => {
    for (const key of [t.keys.analyst, t.keys.riverside, t.keys.council]) {
      const body = (await (await get('/v1/communities', key)).json()) as {
        communities: {
          id: string;
          accounting: string;
          budget: unknown;
          spent: { epsilon: number; rho?: string };
          remaining: { epsilon: number };
        }[];
      };
      expect(body.communities.map((c) => c.id)).toEqual(['hillcrest', 'lakeside', 'riverside']);
      const riverside = body.communities.find((c) => c.id === 'riverside')!;
      expect(riverside).toMatchObject({ accounting: 'zcdp', budget: { epsilon: '10', delta: '0.00001' } });
      // Four pure ε = 0.5 charges: kept as ξ = 2 in the zcdp ledger, cheaper here than ρ = 4 × 0.125.
      expect(Number(riverside.spent.rho)).toBe(0);
      expect(riverside.spent.epsilon).toBeCloseTo(2, 12);
      expect(riverside.remaining.epsilon).toBeCloseTo(10 - riverside.spent.epsilon, 12);
      expect(riverside.spent.epsilon).toBeGreaterThan(0);
    }
  });

  it('opens a ledger to its contributors and the council only', async () => {
    expect((await get('/v1/communities/riverside/ledger', t.keys.riverside)).status).toBe(200);
    expect((await get('/v1/communities/riverside/ledger', t.keys.council)).status).toBe(200);
    expect((await get('/v1/communities/hillcrest/ledger', t.keys.riverside)).status).toBe(403);
    expect((await get('/v1/communities/riverside/ledger', t.keys.analyst)).status).toBe(403);
    expect((await get('/v1/communities/atlantis/ledger', t.keys.council)).status).toBe(404);
  });

  it('lists every charge with who, when, what and how much, newest first, page by page', async () => {
    const first = (await (
      await get('/v1/communities/riverside/ledger?limit=3', t.keys.riverside)
    ).json()) as {
      charges: {
        description: string;
        principal: { name: string };
        epsilon: string;
        rho: string;
        kind: string;
      }[];
      next_cursor: string;
    };
    expect(first.charges.map((c) => c.description)).toEqual([
      'SELECT "a,b" FROM people',
      'SELECT AVG(age) FROM people',
      '=HYPERLINK("http://x")',
    ]);
    expect(first.charges[0]).toMatchObject({
      principal: { name: 'test analyst' },
      epsilon: '0.5',
      rho: '0',
      kind: 'training',
    });
    const second = (await (
      await get(
        `/v1/communities/riverside/ledger?limit=3&cursor=${encodeURIComponent(first.next_cursor)}`,
        t.keys.riverside,
      )
    ).json()) as {
      charges: { description: string }[];
      next_cursor: string | null;
    };
    expect(second.charges.map((c) => c.description)).toEqual(['SELECT COUNT(*) FROM people']);
    expect(second.next_cursor).toBeNull();
  });

  it('filters by kind, analyst and time', async () => {
    const training = (await (
      await get('/v1/communities/riverside/ledger?kind=training', t.keys.council)
    ).json()) as { charges: unknown[] };
    expect(training.charges).toHaveLength(1);
    const byName = (await (
      await get('/v1/communities/riverside/ledger?analyst=test%20analyst', t.keys.council)
    ).json()) as { charges: unknown[] };
    expect(byName.charges).toHaveLength(4);
    const nobody = (await (
      await get('/v1/communities/riverside/ledger?analyst=someone', t.keys.council)
    ).json()) as { charges: unknown[] };
    expect(nobody.charges).toHaveLength(0);
    const future = (await (
      await get('/v1/communities/riverside/ledger?from=2999-01-01T00:00:00Z', t.keys.council)
    ).json()) as { charges: unknown[] };
    expect(future.charges).toHaveLength(0);
    expect((await get('/v1/communities/riverside/ledger?cursor=bm9wZQ', t.keys.council)).status).toBe(400);
  });

  it('exports CSV that spreadsheets will not run as formulas', async () => {
    const response = await get('/v1/communities/riverside/ledger?format=csv', t.keys.riverside);
    expect(response.headers.get('content-type')).toContain('text/csv');
    const lines = (await response.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'at,kind,principal,description,epsilon,delta,rho,mechanism,subject_id,policy_version',
    );
    expect(lines).toHaveLength(5);
    expect(lines.some((line) => line.includes(`"'=HYPERLINK(""http://x"")"`))).toBe(true);
    expect(lines.some((line) => line.includes('"SELECT ""a,b"" FROM people"'))).toBe(true);
  });
});
