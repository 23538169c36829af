/**
 * Answers per second with 32 concurrent analysts, each on its own connection with its own API key,
 * on 1, 2 and 3 gateway processes against one PostgreSQL: fresh queries (every one distinct, so
 * every one is charged) and repeated ones (each analyst's own query again: the stored answer),
 * with p50 and p99 latency. Also the statements and round trips one fresh answer sends, counted on
 * the wire (wire-counter.ts).
 *
 * To compare code, BENCH_CHECKOUTS names checkouts (comma-separated paths, default this one); each
 * run starts its gateways from that checkout (its own test/support/gateway-process.ts), and runs
 * interleave checkouts A B A B, so a machine shared with other work loads both alike.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test); makes its own
 * database and drops it. Run: `npx tsx bench/throughput.bench.ts`. Knobs: BENCH_SECONDS (10 per
 * phase), BENCH_ROUNDS (2), BENCH_GATEWAYS (1,2,3), BENCH_ACCOUNTING (basic, or zcdp or rdp), BENCH_CPU_PROF (a directory: the gateways run
 * with `node --cpu-prof` and write their profiles there).
 *
 * Besides answers/s it reports the CPU time each answer cost, read from /proc: the gateway
 * processes, the PostgreSQL backends serving this bench's database, and the load generator. On a
 * machine shared with other work that, not answers/s, is the figure that does not depend on load.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createApiKey } from '../src/principals/api-keys.ts';
import { openTestDatabase } from '../test/support/databases.ts';
import { DEMO_POLICY_DIR } from '../test/support/demo-policy.ts';
import type { GatewayProcess, startGateway } from '../test/support/gateway-process.ts';
import { askQuery, processCpuMs, runAnalysts } from './analyst-load.ts';
import { startWireCounter } from './wire-counter.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const GATEWAY_COUNTS = (process.env.BENCH_GATEWAYS ?? '1,2,3').split(',').map(Number);
const ANALYSTS = 32;
/** Fresh load before each measurement, so freshly started gateways are warm (JIT, pools). */
const WARM_UP_SECONDS = 3;
const HERE = fileURLToPath(new URL('..', import.meta.url));
const CHECKOUTS = (process.env.BENCH_CHECKOUTS ?? HERE).split(',').map((path) => resolve(path));
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
/** The communities' accounting: basic (ε and δ add) by default; zcdp is the demo policy's own. */
const ACCOUNTING = process.env.BENCH_ACCOUNTING ?? 'basic';
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const database = await openTestDatabase('postgres');
const policyDir = mkdtempSync(join(tmpdir(), 'dpgate-throughput-'));
cpSync(DEMO_POLICY_DIR, policyDir, { recursive: true });
writeFileSync(
  join(policyDir, 'budgets.yaml'),
  `budgets:\n${['riverside', 'hillcrest', 'lakeside'].map((c) => `  ${c}: { epsilon: 100000000, delta: 1.0e-2 }`).join('\n')}\n`,
);
const commonsFile = join(policyDir, 'commons.yaml');
writeFileSync(
  commonsFile,
  readFileSync(commonsFile, 'utf8').replace('accounting: zcdp', `accounting: ${ACCOUNTING}`),
);
const env = {
  DPGATE_POLICY_DIR: policyDir,
  DPGATE_DATA_DIR: policyDir,
  DPGATE_RATE_LIMIT_PER_MINUTE: '100000000',
  DPGATE_RATE_LIMIT_BURST: '100000000',
  DPGATE_MAX_IN_FLIGHT_PER_KEY: '10000',
  LOG_LEVEL: 'info',
};
const keys: string[] = [];
for (let i = 0; i < ANALYSTS; i++) {
  keys.push((await createApiKey(database.db, { role: 'analyst', name: `analyst ${i}` })).key);
}

type Start = typeof startGateway;
const starters = new Map<string, Start>();
for (const checkout of CHECKOUTS) {
  const module = await import(join(checkout, 'test/support/gateway-process.ts'));
  starters.set(checkout, module.startGateway as Start);
}

let distinct = 0;
const ask = (gateway: GatewayProcess, key: string, sqlText: string) => askQuery(gateway.url, key, sqlText);
const freshSql = () => `SELECT COUNT(*) FROM people WHERE age > ${-++distinct}`;
const repeatSql = (analyst: number) => `SELECT COUNT(*) FROM people WHERE age > ${1000 + analyst}`;

/** The PostgreSQL backends serving this bench's database, other than the bench's own. */
async function backendPids(): Promise<number[]> {
  const result = await sql<{ pid: number }>`select pid from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()`.execute(database.db);
  return result.rows.map((row) => row.pid);
}
const cpuOf = (pids: readonly number[]) =>
  new Map(
    pids.flatMap((pid) => {
      try {
        return [[pid, processCpuMs(pid)] as const];
      } catch {
        return []; // ended since it was listed
      }
    }),
  );
/** CPU used between two readings, over the processes present in both. */
const cpuSpent = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, ms]) => sum + (before.has(pid) ? ms - before.get(pid)! : 0), 0);

/** 32 analysts for `seconds`: answers/s, p50, p99, failures, and CPU ms per answer by process. */
async function load(gateways: GatewayProcess[], sqlFor: (analyst: number) => string, seconds = SECONDS) {
  const gatewayPids = gateways.map((gateway) => gateway.child.pid!);
  const pgPids = await backendPids();
  const before = { gateway: cpuOf(gatewayPids), postgres: cpuOf(pgPids), generator: process.cpuUsage() };
  const result = await runAnalysts(
    gateways.map((gateway) => gateway.url),
    keys,
    sqlFor,
    seconds,
  );
  const generator = process.cpuUsage(before.generator);
  const perAnswer = (ms: number) => ms / Math.max(1, result.answers);
  return {
    ...result,
    cpu: {
      gateway: perAnswer(cpuSpent(before.gateway, cpuOf(gatewayPids))),
      postgres: perAnswer(cpuSpent(before.postgres, cpuOf(pgPids))),
      generator: perAnswer((generator.user + generator.system) / 1000),
    },
  };
}

async function startGateways(checkout: string, count: number, url = database.url!) {
  const start = starters.get(checkout)!;
  const nodeArgs = CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : [];
  return Promise.all(
    Array.from({ length: count }, () => start({ ...env, DATABASE_URL: url }, 60_000, { nodeArgs })),
  );
}

/** Statements and round trips per fresh answer, one analyst, sequential, through the wire counter. */
async function statementsPerFreshAnswer(checkout: string) {
  const counter = await startWireCounter(database.url!);
  const [gateway] = await startGateways(checkout, 1, counter.url);
  try {
    for (let i = 0; i < 5; i++) await ask(gateway!, keys[0]!, freshSql());
    const before = { ...counter.counts };
    const answers = 50;
    for (let i = 0; i < answers; i++) await ask(gateway!, keys[0]!, freshSql());
    return {
      statements: (counter.counts.statements - before.statements) / answers,
      roundTrips: (counter.counts.roundTrips - before.roundTrips) / answers,
    };
  } finally {
    await gateway!.stop();
    await counter.close();
  }
}

type Row = {
  checkout: string;
  gateways: number;
  mode: 'fresh' | 'repeated';
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
  cpu: { gateway: number; postgres: number; generator: number };
};
const rows: Row[] = [];
try {
  console.log(
    `throughput: ${ANALYSTS} analysts, ${ACCOUNTING} accounting, ${SECONDS} s per phase, ${ROUNDS} rounds; node ${process.version}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const checkout of CHECKOUTS) {
    const counted = await statementsPerFreshAnswer(checkout);
    console.log(
      `${checkout}: ${counted.statements.toFixed(1)} statements, ${counted.roundTrips.toFixed(1)} round trips per fresh answer`,
    );
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const count of GATEWAY_COUNTS) {
      for (const checkout of CHECKOUTS) {
        const gateways = await startGateways(checkout, count);
        try {
          await load(gateways, freshSql, WARM_UP_SECONDS);
          const fresh = await load(gateways, freshSql);
          await Promise.all(
            keys.map((key, analyst) => ask(gateways[analyst % count]!, key, repeatSql(analyst))),
          );
          const repeated = await load(gateways, repeatSql);
          for (const [mode, result] of [
            ['fresh', fresh],
            ['repeated', repeated],
          ] as const) {
            rows.push({ checkout, gateways: count, mode, ...result });
            const { cpu } = result;
            console.log(
              `round ${round} ${checkout} ${count} gateway(s) ${mode}: ${result.perSecond.toFixed(0)} answers/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.failures} failed; CPU ms per answer: gateway ${cpu.gateway.toFixed(2)}, PostgreSQL ${cpu.postgres.toFixed(2)}, load generator ${cpu.generator.toFixed(2)}; load ${loadavg()[0]!.toFixed(2)}`,
            );
          }
        } finally {
          await Promise.all(gateways.map((gateway) => gateway.stop()));
        }
      }
    }
  }
  console.log('\nmedians over rounds:');
  for (const count of GATEWAY_COUNTS) {
    for (const mode of ['fresh', 'repeated'] as const) {
      const cells = CHECKOUTS.map((checkout) => {
        const mine = rows.filter((r) => r.checkout === checkout && r.gateways === count && r.mode === mode);
        const cpu = (part: keyof Row['cpu']) => median(mine.map((r) => r.cpu[part])).toFixed(2);
        return `${median(mine.map((r) => r.perSecond)).toFixed(0)}/s p50 ${median(mine.map((r) => r.p50)).toFixed(1)} p99 ${median(mine.map((r) => r.p99)).toFixed(1)} ms, CPU ms/answer gw ${cpu('gateway')} pg ${cpu('postgres')} gen ${cpu('generator')}`;
      });
      console.log(`${count} gateway(s) ${mode}: ${cells.join(' | ')}`);
    }
  }
} finally {
  await database.close();
  rmSync(policyDir, { recursive: true, force: true });
}
