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
 * phase), BENCH_ROUNDS (2), BENCH_GATEWAYS (1,2,3).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../src/principals/api-keys.ts';
import { openTestDatabase } from '../test/support/databases.ts';
import { DEMO_POLICY_DIR } from '../test/support/demo-policy.ts';
import type { GatewayProcess, startGateway } from '../test/support/gateway-process.ts';
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

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
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
  readFileSync(commonsFile, 'utf8').replace('accounting: zcdp', 'accounting: basic'),
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
async function ask(gateway: GatewayProcess, key: string, sqlText: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${gateway.url}/v1/queries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: sqlText, epsilon: 0.001 }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`status ${response.status}: ${text.slice(0, 200)}`);
  return performance.now() - started;
}
const freshSql = () => `SELECT COUNT(*) FROM people WHERE age > ${-++distinct}`;
const repeatSql = (analyst: number) => `SELECT COUNT(*) FROM people WHERE age > ${1000 + analyst}`;

/** 32 analysts for `seconds`, analyst i on gateway i mod n: answers/s, p50, p99, failures. */
async function load(gateways: GatewayProcess[], sqlFor: (analyst: number) => string, seconds = SECONDS) {
  const latencies: number[] = [];
  let failures = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    keys.map(async (key, analyst) => {
      const gateway = gateways[analyst % gateways.length]!;
      while (performance.now() < until) {
        try {
          latencies.push(await ask(gateway, key, sqlFor(analyst)));
        } catch {
          failures++;
        }
      }
    }),
  );
  const sorted = latencies.sort((a, b) => a - b);
  return {
    perSecond: sorted.length / SECONDS,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    failures,
  };
}

async function startGateways(checkout: string, count: number, url = database.url!) {
  const start = starters.get(checkout)!;
  return Promise.all(Array.from({ length: count }, () => start({ ...env, DATABASE_URL: url }, 60_000)));
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
};
const rows: Row[] = [];
try {
  console.log(
    `throughput: ${ANALYSTS} analysts, ${SECONDS} s per phase, ${ROUNDS} rounds; node ${process.version}; load average at start ${loadavg()
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
            console.log(
              `round ${round} ${checkout} ${count} gateway(s) ${mode}: ${result.perSecond.toFixed(0)} answers/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.failures} failed; load ${loadavg()[0]!.toFixed(2)}`,
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
        return `${median(mine.map((r) => r.perSecond)).toFixed(0)}/s p50 ${median(mine.map((r) => r.p50)).toFixed(1)} p99 ${median(mine.map((r) => r.p99)).toFixed(1)} ms`;
      });
      console.log(`${count} gateway(s) ${mode}: ${cells.join(' | ')}`);
    }
  }
} finally {
  await database.close();
  rmSync(policyDir, { recursive: true, force: true });
}
