/**
 * A short run of the throughput bench's load generator (bench/analyst-load.ts) against one and then
 * two real gateway processes on PostgreSQL: answers come back, none fails, and afterwards the
 * ledger is exact (spent equals the sum of the charge rows, nothing above the budget, no released
 * answer without its charge). No timing is asserted; the speed is measured by the bench itself.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalysts } from '../../bench/analyst-load.ts';
import { createApiKey } from '../../src/principals/api-keys.ts';
import { openTestDatabase, TEST_DATABASE_KINDS, type TestDatabase } from '../support/databases.ts';
import { DEMO_POLICY_DIR } from '../support/demo-policy.ts';
import { type GatewayProcess, startGateway } from '../support/gateway-process.ts';

const COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'];
const ANALYSTS = 8;
const SECONDS = 2;
/** Starting gateway processes from source takes tens of seconds on a loaded machine. */
const START_MS = 120_000;

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('throughput bench smoke on PostgreSQL', () => {
  let database: TestDatabase;
  let policyDir: string;
  let env: Record<string, string>;
  const keys: string[] = [];

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    policyDir = mkdtempSync(join(tmpdir(), 'dpgate-smoke-'));
    cpSync(DEMO_POLICY_DIR, policyDir, { recursive: true });
    const commons = join(policyDir, 'commons.yaml');
    writeFileSync(commons, readFileSync(commons, 'utf8').replace('accounting: zcdp', 'accounting: basic'));
    writeFileSync(
      join(policyDir, 'budgets.yaml'),
      `budgets:\n${COMMUNITIES.map((c) => `  ${c}: { epsilon: 1000000, delta: 1.0e-5 }`).join('\n')}\n`,
    );
    env = {
      DATABASE_URL: database.url!,
      DPGATE_POLICY_DIR: policyDir,
      DPGATE_DATA_DIR: policyDir,
      DPGATE_DEMO: '0',
      DPGATE_RATE_LIMIT_PER_MINUTE: '1000000',
      DPGATE_RATE_LIMIT_BURST: '1000000',
      DPGATE_MAX_IN_FLIGHT_PER_KEY: '1000',
    };
    for (let i = 0; i < ANALYSTS; i++) {
      keys.push((await createApiKey(database.db, { role: 'analyst', name: `smoke ${i}` })).key);
    }
  });

  afterAll(async () => {
    await database?.close();
    rmSync(policyDir, { recursive: true, force: true });
  });

  let distinct = 0;
  const fresh = () => `SELECT COUNT(*) FROM people WHERE age > ${-++distinct}`;
  const repeated = (analyst: number) => `SELECT COUNT(*) FROM people WHERE age > ${1000 + analyst}`;

  it.each([1, 2])(
    '%i gateway(s): fresh and repeated answers, none failed',
    async (count) => {
      const gateways: GatewayProcess[] = await Promise.all(
        Array.from({ length: count }, () => startGateway(env, START_MS)),
      );
      try {
        const urls = gateways.map((gateway) => gateway.url);
        for (const result of [
          await runAnalysts(urls, keys, fresh, SECONDS),
          await runAnalysts(urls, keys, repeated, SECONDS / 2),
        ]) {
          expect(result.failureSamples).toEqual([]);
          expect(result.failures).toBe(0);
          expect(result.answers).toBeGreaterThan(0);
        }
      } finally {
        await Promise.all(gateways.map((gateway) => gateway.stop()));
      }
    },
    START_MS + 60_000,
  );

  it('leaves the ledger exact: spent is the sum of the charges, within budget, every answer charged', async () => {
    const budgets = await sql<{
      community_id: string;
      exact: boolean;
      within: boolean;
      charges: number;
    }>`select b.community_id,
        b.epsilon_spent = coalesce(sum(c.epsilon), 0) and b.delta_spent = coalesce(sum(c.delta), 0) as exact,
        b.epsilon_spent <= b.epsilon_total and b.delta_spent <= b.delta_total as within,
        count(c.*)::int as charges
      from dpgate.community_budgets b left join dpgate.charges c using (community_id)
      group by b.community_id order by b.community_id`.execute(database.db);
    expect(budgets.rows.map((row) => row.community_id)).toEqual(COMMUNITIES);
    for (const row of budgets.rows) {
      expect(row).toMatchObject({ exact: true, within: true });
      expect(row.charges).toBeGreaterThan(0);
    }
    const uncharged = await sql<{ id: string }>`select a.id from dpgate.released_answers a
      where not exists (select 1 from dpgate.charges c where c.subject_id = a.id::text)`.execute(database.db);
    expect(uncharged.rows).toEqual([]);
  });
});
