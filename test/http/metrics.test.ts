/** `/metrics`: Prometheus text with request rates and latencies by route, problem codes, budgets. */
import { beforeAll, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.ts';
import { listCommunityBudgets } from '../../src/ledger/ledger-view.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';

const TOKEN = 'scrape-token-0123456789';

describeEachDatabase('/metrics', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    const db = database();
    t = await createTestApp(db, () => ({
      metrics: createMetrics({
        db: db.db,
        ...(db.driver.kind === 'postgres' ? { pool: db.driver.pool } : {}),
      }),
      metricsToken: TOKEN,
    }));
  });

  const scrape = async () => {
    const response = await t.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  it('needs the metrics token when one is configured', async () => {
    expect((await t.app.request('/metrics')).status).toBe(401);
    expect((await t.app.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
  });

  it('counts requests by route pattern, refusals by code, charges and budget left', async () => {
    expect((await t.query({ sql: 'SELECT COUNT(*) FROM people', epsilon: 0.5 })).status).toBe(200);
    expect((await t.query({ sql: 'SELECT income FROM people', epsilon: 0.5 })).status).toBe(422);
    expect((await t.query({ sql: 'SELEC 1', epsilon: 0.5 })).status).toBe(422);
    await t.app.request('/v1/no-such-route', { headers: t.bearer(t.keys.analyst) });

    const text = await scrape();
    expect(text).toMatch(
      /dpgate_http_requests_total\{method="POST",route="\/v1\/queries",status="200"\} 1\b/,
    );
    expect(text).toMatch(
      /dpgate_http_requests_total\{method="POST",route="\/v1\/queries",status="422"\} 2\b/,
    );
    expect(text).toMatch(/dpgate_http_requests_total\{method="GET",route="unmatched",status="404"\} 1\b/);
    expect(text).toMatch(
      /dpgate_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/v1\/queries"\} 3\b/,
    );
    expect(text).toMatch(/dpgate_problems_total\{route="\/v1\/queries",code="syntax_error"\} 1\b/);
    expect(text).toMatch(/dpgate_problems_total\{route="\/v1\/queries",code="[a-z_]+"\} 1\b/);
    // One query at ε = 0.5 charged every community in scope: what each has left, as the ledger says.
    const left = [...text.matchAll(/dpgate_budget_remaining_epsilon\{community="(\w+)"\} ([\d.e-]+)/g)];
    const budgets = await listCommunityBudgets(database().db);
    expect(Object.fromEntries(left.map(([, community, value]) => [community, Number(value)]))).toEqual(
      Object.fromEntries(budgets.map((budget) => [budget.id, budget.remaining.epsilon])),
    );
    for (const budget of budgets)
      expect(budget.remaining.epsilon).toBeLessThan(Number(budget.budget.epsilon));
    expect(text).toMatch(/dpgate_ledger_charges\{community="riverside",kind="query"\} 1\b/);
    expect(text).toMatch(/dpgate_ledger_epsilon_charged\{community="riverside",kind="query"\} 0\.49/);
    expect(text).toContain('dpgate_process_cpu_seconds_total');
    if (database().driver.kind === 'postgres')
      expect(text).toMatch(/dpgate_db_pool_connections\{state="total"\}/);
  });
});
