/**
 * The gateway end to end on PostgreSQL: charges per second with 50 concurrent clients, latency of a
 * fresh query vs a repeated (stored) one, dpgate vs the same SQL sent to PostgreSQL with `pg`, the
 * time dpgate adds over raw SQL (COUNT, SUM, AVG, GROUP BY; fresh and repeated; one client, every
 * variant interleaved request by request, ratio of medians) and repeated answers per second.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test). Makes its own
 * databases and drops them. Run: `npx tsx bench/gateway.bench.ts`. Settings:
 * - BENCH_SECTIONS: a comma-separated subset of ledger,load,repeat,raw,added,repeats (default all);
 * - BENCH_BASELINE: another checkout (e.g. a worktree of main) whose gateway joins the interleaved
 *   sections, on a database of its own, to compare two versions in one run;
 * - BENCH_CPU_PROF: a directory for a CPU profile of this checkout's gateway (`node --cpu-prof`).
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
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'ledger,load,repeat,raw,added,repeats').split(','));
const BASELINE = process.env.BENCH_BASELINE;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const median = (ms: number[]) =>
  percentile(
    [...ms].sort((a, b) => a - b),
    0.5,
  );
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
const gatewayEnv = (url: string, more: Record<string, string> = {}) => ({
  DATABASE_URL: url,
  DPGATE_POLICY_DIR: policyDir,
  DPGATE_DATA_DIR: policyDir,
  DPGATE_RATE_LIMIT_PER_MINUTE: '10000000',
  DPGATE_RATE_LIMIT_BURST: '10000000',
  DPGATE_MAX_IN_FLIGHT_PER_KEY: '10000',
  LOG_LEVEL: 'info',
  ...more,
});
const nodeArgs = process.env.BENCH_CPU_PROF
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
  : [];
const gateway = await startGateway(gatewayEnv(database.url!), 30_000, { nodeArgs });
const key = (await createApiKey(database.db, { role: 'analyst', name: 'bench' })).key;

/** A gateway and a key of its own, to put beside `gateway` in the interleaved sections. */
interface Variant {
  readonly name: string;
  readonly url: string;
  readonly key: string;
  readonly db: Awaited<ReturnType<typeof openTestDatabase>>;
  readonly pid: number;
}
const variants: Variant[] = [
  { name: 'dpgate', url: gateway.url, key, db: database, pid: gateway.child.pid! },
];
const extras: { stop(): Promise<unknown> }[] = [];
if (SECTIONS.has('added') || SECTIONS.has('repeats')) {
  // The same code with the limits in this process only: what the shared limiter costs.
  const memory = await startGateway(gatewayEnv(database.url!, { DPGATE_RATE_LIMIT_STORE: 'memory' }));
  extras.push(memory);
  const memoryKey = (await createApiKey(database.db, { role: 'analyst', name: 'bench memory' })).key;
  variants.push({
    name: 'dpgate, memory limits',
    url: memory.url,
    key: memoryKey,
    db: database,
    pid: memory.child.pid!,
  });
  if (BASELINE) {
    const baselineDb = await openTestDatabase('postgres');
    const baseline = await startGateway(gatewayEnv(baselineDb.url!), 60_000, { root: BASELINE });
    extras.push(baseline, { stop: () => baselineDb.close() });
    const baselineKey = (await createApiKey(baselineDb.db, { role: 'analyst', name: 'bench baseline' })).key;
    variants.push({
      name: 'baseline',
      url: baseline.url,
      key: baselineKey,
      db: baselineDb,
      pid: baseline.child.pid!,
    });
  }
}

let counter = 0;
async function askAt(url: string, apiKey: string, sqlText: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/queries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: sqlText, epsilon: 0.001 }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`status ${response.status}: ${text}`);
  return performance.now() - started;
}
const ask = (sqlText: string) => askAt(gateway.url, key, sqlText);

/**
 * CPU milliseconds a process (the gateway: `node` itself, its tsx loader is not a separate process)
 * has used so far: user + system clock ticks from /proc, 100 per second. Per answer, it says what a
 * gateway costs whatever else the machine is running.
 */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

try {
  console.log(`gateway on PostgreSQL, ${CLIENTS} clients, ${SECONDS} s per run; node ${process.version}`);

  // 1. Ledger alone: commitCharge transactions from 50 concurrent callers on one pool.
  if (SECTIONS.has('ledger')) {
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
  if (SECTIONS.has('load')) {
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
  if (SECTIONS.has('repeat')) {
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
  if (SECTIONS.has('raw')) {
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

  // 5. Added over raw: one client; per round raw SQL, then each gateway, fresh then repeated.
  if (SECTIONS.has('added')) {
    const direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    const where = (i: number) => `WHERE age > ${-i}`;
    const shapes: Record<string, (w: string, table: string) => string> = {
      COUNT: (w, t) => `SELECT COUNT(*) FROM ${t} ${w}`,
      SUM: (w, t) => `SELECT SUM(income) FROM ${t} ${w}`,
      AVG: (w, t) => `SELECT AVG(income) FROM ${t} ${w}`,
      'GROUP BY': (w, t) => `SELECT educ, COUNT(*) FROM ${t} ${w} GROUP BY educ`,
    };
    console.log(`added over raw, one client, ${ROUNDS} interleaved rounds per shape (medians, ms):`);
    for (const [name, shape] of Object.entries(shapes)) {
      const raw: number[] = [];
      const times = variants.map(() => ({ fresh: [] as number[], repeated: [] as number[] }));
      const repeatedWhere = where(9_000_000);
      for (const v of variants) await askAt(v.url, v.key, shape(repeatedWhere, 'people'));
      for (let i = 0; i < ROUNDS; i++) {
        const w = where(++counter);
        const started = performance.now();
        await direct.query(shape(w, 'commons.people'));
        raw.push(performance.now() - started);
        for (const [j, v] of variants.entries()) {
          times[j]!.fresh.push(await askAt(v.url, v.key, shape(w, 'people')));
          times[j]!.repeated.push(await askAt(v.url, v.key, shape(repeatedWhere, 'people')));
        }
      }
      const r = median(raw);
      const cells = variants.map((v, j) => {
        const f = median(times[j]!.fresh);
        const p = median(times[j]!.repeated);
        return `${v.name}: fresh ${f.toFixed(2)} (+${(f - r).toFixed(2)}, ${(f / r).toFixed(1)}×), repeated ${p.toFixed(2)} (+${(p - r).toFixed(2)}, ${(p / r).toFixed(1)}×)`;
      });
      console.log(`  ${name}: raw ${r.toFixed(2)}; ${cells.join('; ')}`);
    }
    await direct.end();
  }

  // 6. Repeated answers per second on one gateway: clients each with their own key, asking their
  // stored query again; the gateways take turns in slices so they see the same machine load.
  if (SECTIONS.has('repeats')) {
    const clients = 32;
    const slices = 4;
    const sqlText = 'SELECT COUNT(*) FROM people WHERE age > 7000000';
    // Each client's stored answer, made one at a time (concurrent first answers queue on the budget).
    const keys: string[][] = [];
    for (const v of variants) {
      const own: string[] = [];
      for (let c = 0; c < clients; c++) {
        const k = (await createApiKey(v.db.db, { role: 'analyst', name: `repeat ${c}` })).key;
        await askAt(v.url, k, sqlText);
        own.push(k);
      }
      keys.push(own);
    }
    const answered = variants.map(() => 0);
    const latencies = variants.map(() => [] as number[]);
    const cpu = variants.map(() => 0);
    for (let slice = 0; slice < slices; slice++) {
      for (const [j, v] of variants.entries()) {
        const until = performance.now() + (SECONDS * 1000) / slices;
        const cpuBefore = cpuMs(v.pid);
        await Promise.all(
          keys[j]!.map(async (k) => {
            while (performance.now() < until) {
              latencies[j]!.push(await askAt(v.url, k, sqlText));
              answered[j]!++;
            }
          }),
        );
        cpu[j]! += cpuMs(v.pid) - cpuBefore;
      }
    }
    for (const [j, v] of variants.entries()) {
      const s = summary(latencies[j]!);
      console.log(
        `repeated answers, ${clients} clients, ${v.name}: ${(answered[j]! / SECONDS).toFixed(0)}/s, p50 ${s.p50} ms, p99 ${s.p99} ms; gateway CPU ${(cpu[j]! / answered[j]!).toFixed(3)} ms per answer (${(answered[j]! / (cpu[j]! / 1000)).toFixed(0)} answers per CPU second)`,
      );
    }
  }
} finally {
  await gateway.stop();
  for (const extra of extras) await extra.stop();
  await database.close();
  rmSync(policyDir, { recursive: true, force: true });
}
