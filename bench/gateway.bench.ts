/**
 * The gateway end to end on PostgreSQL: charges per second with 50 concurrent clients, latency of a
 * fresh query vs a repeated (stored) one, and dpgate vs the same SQL sent to PostgreSQL with `pg`.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test). Makes its own
 * database and drops it. Run: `npx tsx bench/gateway.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { commitCharge } from '../src/ledger/charge.ts';
import { releaseCost } from '../src/ledger/release-cost.ts';
import { createApiKey } from '../src/principals/api-keys.ts';
import { openTestDatabase } from '../test/support/databases.ts';
import { DEMO_POLICY_DIR } from '../test/support/demo-policy.ts';
import { startGateway } from '../test/support/gateway-process.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = 50;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const summary = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5).toFixed(2),
    p99: percentile(sorted, 0.99).toFixed(2),
    n: sorted.length,
  };
};

const database = await openTestDatabase('postgres');
const policyDir = mkdtempSync(join(tmpdir(), 'dpgate-bench-'));
cpSync(DEMO_POLICY_DIR, policyDir, { recursive: true });
writeFileSync(
  join(policyDir, 'budgets.yaml'),
  'budgets:\n  riverside: { epsilon: 1000000, delta: 1.0e-5 }\n  hillcrest: { epsilon: 1000000, delta: 1.0e-5 }\n  lakeside: { epsilon: 1000000, delta: 1.0e-5 }\n',
);
const commons = join(policyDir, 'commons.yaml');
writeFileSync(commons, readFileSync(commons, 'utf8').replace('accounting: zcdp', 'accounting: basic'));
const gateway = await startGateway({
  DATABASE_URL: database.url,
  DPGATE_POLICY_DIR: policyDir,
  DPGATE_DATA_DIR: policyDir,
  DPGATE_RATE_LIMIT_PER_MINUTE: '10000000',
  DPGATE_RATE_LIMIT_BURST: '10000000',
  DPGATE_MAX_IN_FLIGHT_PER_KEY: '10000',
  LOG_LEVEL: 'info',
});
const key = (await createApiKey(database.db, { role: 'analyst', name: 'bench' })).key;

let counter = 0;
async function ask(sqlText: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${gateway.url}/v1/queries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: sqlText, epsilon: 0.001 }),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  return performance.now() - started;
}

try {
  console.log(`gateway on PostgreSQL, ${CLIENTS} clients, ${SECONDS} s per run; node ${process.version}`);

  // 1. Ledger alone: commitCharge transactions from 50 concurrent callers on one pool.
  {
    const principal = { id: randomUUID(), name: 'bench', role: 'analyst' as const, communityId: null };
    const cost = releaseCost({ losses: [{ kind: 'pure', epsilon: 0.001 }], mechanism: 'discrete_laplace' });
    const until = performance.now() + SECONDS * 1000;
    let charges = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < until) {
          const id = randomUUID();
          await database.db.transaction().execute((trx) =>
            commitCharge(trx, {
              requestId: id,
              principal,
              kind: 'query',
              subjectId: id,
              description: 'bench',
              communities: ['riverside', 'hillcrest', 'lakeside'],
              cost,
              policyVersion: 'bench',
            }),
          );
          charges++;
        }
      }),
    );
    console.log(
      `ledger only: ${(charges / SECONDS).toFixed(0)} charge transactions/s (each charging 3 communities)`,
    );
  }

  // 2. Whole answers: 50 clients sending distinct COUNT queries through HTTP.
  {
    const until = performance.now() + SECONDS * 1000;
    const latencies: number[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < until)
          latencies.push(await ask(`SELECT COUNT(*) FROM people WHERE age > ${-++counter}`));
      }),
    );
    const s = summary(latencies);
    console.log(
      `answered queries (each one charge over 3 communities): ${(s.n / SECONDS).toFixed(0)}/s, p50 ${s.p50} ms, p99 ${s.p99} ms`,
    );
  }

  // 3. One client: a fresh query each time vs the same query again (stored answer, no charge).
  {
    const fresh: number[] = [];
    const repeated: number[] = [];
    await ask('SELECT COUNT(*) FROM people WHERE age > 5000');
    for (let i = 0; i < 300; i++) {
      fresh.push(await ask(`SELECT COUNT(*) FROM people WHERE age > ${-++counter}`));
      repeated.push(await ask('SELECT COUNT(*) FROM people WHERE age > 5000'));
    }
    console.log('fresh query   ', summary(fresh));
    console.log('repeated query', summary(repeated));
  }

  // 4. dpgate vs PostgreSQL directly, one client, same SQL shape.
  {
    const direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    const shapes = {
      COUNT: (i: number) => [
        `SELECT COUNT(*) FROM people WHERE age > ${-i}`,
        `SELECT COUNT(*) FROM commons.people WHERE age > ${-i}`,
      ],
      'GROUP BY': (i: number) => [
        `SELECT educ, COUNT(*) FROM people WHERE age > ${-i} GROUP BY educ`,
        `SELECT educ, COUNT(*) FROM commons.people WHERE age > ${-i} GROUP BY educ`,
      ],
    };
    for (const [name, shape] of Object.entries(shapes)) {
      const viaGateway: number[] = [];
      const viaPg: number[] = [];
      for (let i = 0; i < 300; i++) {
        const [gatewaySql, directSql] = shape(++counter) as [string, string];
        viaGateway.push(await ask(gatewaySql));
        const started = performance.now();
        await direct.query(directSql);
        viaPg.push(performance.now() - started);
      }
      const g = summary(viaGateway);
      const d = summary(viaPg);
      console.log(
        `${name}: dpgate p50 ${g.p50} ms, PostgreSQL p50 ${d.p50} ms, ratio ${(Number(g.p50) / Number(d.p50)).toFixed(1)}×`,
      );
    }
    await direct.end();
  }
} finally {
  await gateway.stop();
  await database.close();
  rmSync(policyDir, { recursive: true, force: true });
}
