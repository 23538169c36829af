/**
 * Several gateway processes on one PostgreSQL, each with many requests in flight, never overspend
 * a budget: with a budget for exactly N queries, exactly N are answered and the rest are refused
 * with budget_exhausted. And a gateway killed mid-flight leaves no answer without its charge.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/principals/api-keys.ts';
import { openTestDatabase, TEST_DATABASE_KINDS, type TestDatabase } from '../support/databases.ts';
import { DEMO_POLICY_DIR } from '../support/demo-policy.ts';
import { type GatewayProcess, startGateway } from '../support/gateway-process.ts';

const COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'];

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('many gateways on one PostgreSQL', () => {
  let database: TestDatabase;
  let policyDir: string;
  let gateways: GatewayProcess[] = [];
  let analystKey: string;

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    policyDir = mkdtempSync(join(tmpdir(), 'dpgate-policies-'));
    cpSync(DEMO_POLICY_DIR, policyDir, { recursive: true });
    // Basic accounting and ε = 1 per community: exactly ten queries at ε = 0.1 fit.
    const commons = join(policyDir, 'commons.yaml');
    writeFileSync(commons, readFileSync(commons, 'utf8').replace('accounting: zcdp', 'accounting: basic'));
    writeFileSync(
      join(policyDir, 'budgets.yaml'),
      `budgets:\n${COMMUNITIES.map((c) => `  ${c}: { epsilon: 1, delta: 1.0e-5 }`).join('\n')}\n`,
    );
    const env = {
      DATABASE_URL: database.url,
      DPGATE_POLICY_DIR: policyDir,
      DPGATE_DATA_DIR: policyDir,
      DPGATE_DEMO: '0',
      DPGATE_RATE_LIMIT_PER_MINUTE: '100000',
      DPGATE_RATE_LIMIT_BURST: '100000',
      DPGATE_MAX_IN_FLIGHT_PER_KEY: '1000',
    };
    gateways = await Promise.all([startGateway(env), startGateway(env)]);
    analystKey = (await createApiKey(database.db, { role: 'analyst', name: 'load analyst' })).key;
  });

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await database?.close();
    rmSync(policyDir, { recursive: true, force: true });
  });

  const ask = (gateway: GatewayProcess, body: Record<string, unknown>) =>
    fetch(`${gateway.url}/v1/queries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${analystKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as { code?: string },
    }));

  const spent = async () =>
    (
      await database.db
        .selectFrom('dpgate.community_budgets')
        .select(['community_id', 'epsilon_spent', 'epsilon_total'])
        .orderBy('community_id')
        .execute()
    ).map((row) => ({
      community: row.community_id,
      spent: Number(row.epsilon_spent),
      total: Number(row.epsilon_total),
    }));

  it.each([1, 2, 3])(
    'round %i: 2 processes × 50 concurrent queries, budget for exactly 10 more',
    async (round) => {
      if (round > 1) {
        await database.db
          .updateTable('dpgate.community_budgets')
          .set({ epsilon_total: sql`epsilon_total + 1` })
          .execute();
      }
      const requests = gateways.flatMap((gateway, g) =>
        Array.from({ length: 50 }, (_, i) =>
          ask(gateway, {
            sql: `SELECT COUNT(*) FROM people WHERE age > ${round * 1000 + g * 100 + i}`,
            epsilon: 0.1,
          }),
        ),
      );
      const results = await Promise.all(requests);
      const answered = results.filter((r) => r.status === 200).length;
      const exhausted = results.filter((r) => r.status === 409 && r.body.code === 'budget_exhausted').length;
      expect({ answered, exhausted }).toEqual({ answered: 10, exhausted: 90 });
      for (const community of await spent()) {
        expect(community.spent).toBeLessThanOrEqual(community.total);
        expect(community.spent).toBeGreaterThan(community.total - 0.1);
      }
      const charges = await sql<{ community_id: string; n: number; total: string }>`
      select community_id, count(*) as n, sum(epsilon) as total from dpgate.charges group by community_id order by community_id`.execute(
        database.db,
      );
      for (const row of charges.rows) expect(row.n).toBe(10 * round);
      const budgets = await spent();
      for (const [i, row] of charges.rows.entries())
        expect(Number(row.total)).toBeCloseTo(budgets[i]!.spent, 12);
    },
  );

  it('leaves no answer without a charge when a gateway is killed mid-flight', async () => {
    await database.db
      .updateTable('dpgate.community_budgets')
      .set({ epsilon_total: sql`epsilon_total + 100` })
      .execute();
    const victim = gateways[0]!;
    const inFlight = Array.from({ length: 60 }, (_, i) =>
      ask(victim, {
        sql: `SELECT AVG(age) FROM people WHERE educ > ${i % 16}`,
        epsilon: 0.01 + i / 100_000,
      }).catch(() => undefined),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    victim.child.kill('SIGKILL');
    await Promise.all(inFlight);
    const orphans = await sql<{ id: string }>`
      select a.id from dpgate.released_answers a
      where a.status = 'released' and not exists (select 1 from dpgate.charges c where c.subject_id = a.id::text)`.execute(
      database.db,
    );
    expect(orphans.rows).toEqual([]);
    const consistent = await sql<{ community_id: string; spent: string; charged: string }>`
      select b.community_id, b.epsilon_spent as spent, coalesce(sum(c.epsilon), 0) as charged
      from dpgate.community_budgets b left join dpgate.charges c using (community_id)
      group by b.community_id, b.epsilon_spent`.execute(database.db);
    for (const row of consistent.rows) expect(Number(row.charged)).toBeCloseTo(Number(row.spent), 12);
    // The survivor still answers.
    expect(
      (await ask(gateways[1]!, { sql: 'SELECT COUNT(*) FROM people WHERE age > 77', epsilon: 0.1 })).status,
    ).toBe(200);
    gateways = gateways.slice(1);
  });
});
