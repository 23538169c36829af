/**
 * Statements on the wire per fresh answer on PostgreSQL, counted by a proxy in front of the
 * database (bench/wire-counter.ts) whatever the code sends them through: the API key lookup (the
 * test app keeps no keys), the charge (one statement of a group commit), the data query (one
 * autocommit statement on the query pool) and storing the released answer: four statements, four
 * round trips. The shared limiter's two are not in the test app.
 */
import { describe, expect, it } from 'vitest';
import { startWireCounter } from '../../bench/wire-counter.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { createTestApp } from '../support/app.ts';
import { openTestDatabase, TEST_DATABASE_KINDS } from '../support/databases.ts';

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('statements per fresh answer on PostgreSQL', () => {
  it('sends four statements in four round trips per fresh answer', async () => {
    const database = await openTestDatabase('postgres');
    const counter = await startWireCounter(database.url!);
    const counted = await openDatabase({ url: counter.url, dataDir: 'memory://' });
    try {
      const t = await createTestApp({ ...counted, kind: 'postgres' });
      let constant = 20;
      const fresh = async () => {
        const response = await t.query({
          sql: `SELECT COUNT(*) FROM people WHERE age > ${constant++}`,
          epsilon: 0.01,
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ status: 'released', repeated: false });
      };
      // The first answers also read the budget rows the group commit plans on.
      await fresh();
      await fresh();
      const before = { ...counter.counts };
      const answers = 5;
      for (let i = 0; i < answers; i++) await fresh();
      expect((counter.counts.statements - before.statements) / answers).toBe(4);
      expect((counter.counts.roundTrips - before.roundTrips) / answers).toBe(4);
    } finally {
      await counted.close();
      await counter.close();
      await database.close();
    }
  });
});
