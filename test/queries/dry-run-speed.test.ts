/**
 * Nothing on the request path grows with the noise scale: every accepted query of the SQL corpus
 * plans and dry-runs in milliseconds under both mechanisms, Gaussian SUM over the widest bounds at
 * the largest σ the DP core accepts included, and /health answers meanwhile. (Timings are checked
 * loosely, since the suite runs on shared machines; the O(σ) computation this guards against took
 * over a minute.)
 */
import { beforeAll, expect, it } from 'vitest';
import { ACCEPTED } from '../sql/corpus.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';

// Generous for a loaded CI machine; the O(σ) computation this guards against took over a minute.
const PER_REQUEST_MS = 2000;

describeEachDatabase('dry runs cost milliseconds', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp(database());
    // The first request pays for compilation and the database's first query; time the rest.
    await t.query({ sql: 'SELECT COUNT(*) FROM people', epsilon: 1, dry_run: true });
  });

  it.each(['laplace', 'gaussian'] as const)('every accepted corpus query, %s', async (mechanism) => {
    for (const c of ACCEPTED) {
      const started = performance.now();
      const response = await t.query({ sql: c.sql, epsilon: 1, delta: 1e-7, mechanism, dry_run: true });
      const elapsed = performance.now() - started;
      expect(response.status, c.sql).toBe(200);
      expect(elapsed, c.sql).toBeLessThan(PER_REQUEST_MS);
    }
  });

  it('Gaussian SUM over the widest bounds, near the largest σ accepted (~1.2·10^7), with /health alongside', async () => {
    // survey_responses: income in [0, 500000], two rows in each of two groups, so σ reaches ~10^7.
    for (const epsilon of [1, 0.5]) {
      const sql = 'SELECT SUM(income) FROM survey_responses';
      const started = performance.now();
      const [answer, health] = await Promise.all([
        t.query({ sql, epsilon, delta: 1e-7, mechanism: 'gaussian', dry_run: true }),
        t.app.request('/health'),
      ]);
      expect(performance.now() - started).toBeLessThan(PER_REQUEST_MS);
      expect(health.status).toBe(200);
      const body = (await answer.json()) as { planned_accuracy?: unknown; code?: string };
      expect(answer.status, JSON.stringify(body)).toBe(200);
      expect(body.planned_accuracy).toBeDefined();
    }
  });
});
