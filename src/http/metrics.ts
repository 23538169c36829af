/**
 * Prometheus metrics (prom-client), in their own registry. Per process: request counts and
 * latencies by route, refusals and errors by problem code, the PostgreSQL pool. From the database at
 * each scrape (the same figures on every replica): each community's remaining budget and the
 * ledger's charges. Node only; the app sees only the `RequestMetrics` interface.
 */
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/database.ts';
import { remaining } from '../ledger/budget-state.ts';
import { budgetState } from '../ledger/charge.ts';
import type { GatewayMetrics } from './middleware/metrics.ts';

export function createMetrics(options: { db: Kysely<Database>; pool?: pg.Pool }): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dpgate_' });

  const requests = new Counter({
    name: 'dpgate_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'dpgate_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const problems = new Counter({
    name: 'dpgate_problems_total',
    help: 'Requests refused or failed, by route pattern and problem code (budget_exhausted, syntax_error, …)',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });

  const { db, pool } = options;
  new Gauge({
    name: 'dpgate_budget_remaining_epsilon',
    help: 'ε a community has left under its accounting mode (from the database)',
    labelNames: ['community'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await db.selectFrom('dpgate.community_budgets').selectAll().execute();
      for (const row of rows) this.set({ community: row.community_id }, remaining(budgetState(row)).epsilon);
    },
  });
  const chargeTotals = async () =>
    db
      .selectFrom('dpgate.charges')
      .select(({ fn }) => [
        'community_id',
        'kind',
        fn.countAll<string>().as('count'),
        fn.sum<string>('epsilon').as('epsilon'),
      ])
      .groupBy(['community_id', 'kind'])
      .execute();
  new Gauge({
    name: 'dpgate_ledger_charges',
    help: 'Charges committed in the ledger, by community and kind (from the database; the same on every replica)',
    labelNames: ['community', 'kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await chargeTotals())
        this.set({ community: row.community_id, kind: row.kind }, Number(row.count));
    },
  });
  new Gauge({
    name: 'dpgate_ledger_epsilon_charged',
    help: 'Sum of the ε of committed charges, by community and kind (from the database)',
    labelNames: ['community', 'kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await chargeTotals())
        this.set({ community: row.community_id, kind: row.kind }, Number(row.epsilon ?? 0));
    },
  });
  if (pool) {
    new Gauge({
      name: 'dpgate_db_pool_connections',
      help: 'PostgreSQL pool connections of this process: total, idle, and requests waiting for one',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observe({ method, route, status, seconds, problemCode }) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
      if (problemCode) problems.inc({ route, code: problemCode });
    },
  };
}
