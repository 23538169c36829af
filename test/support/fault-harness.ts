/**
 * Shared pieces of the fault and attack suites (test/faults, test/attacks): a PostgreSQL commons
 * with roomy basic budgets and a policy directory of its own, real gateway processes on it, keys
 * for every role, a bounded load generator that counts what clients got, and the database's own
 * deadlock counter.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { createApiKey } from '../../src/principals/api-keys.ts';
import { openTestDatabase, type TestDatabase } from './databases.ts';
import { DEMO_POLICY_DIR } from './demo-policy.ts';
import { type GatewayProcess, startGateway } from './gateway-process.ts';
import { checkLedgerInvariants, type LedgerInvariants } from './ledger-invariants.ts';

/** Every gateway of a fault test connects under this name, so only their backends are terminated. */
export const GATEWAY_APPLICATION_NAME = 'dpgate-fault-gateway';
export const COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'] as const;

export interface FaultCommons {
  readonly database: TestDatabase;
  readonly policyDir: string;
  readonly env: Record<string, string>;
  readonly keys: Record<'analyst' | 'otherAnalyst' | 'council' | 'riverside' | 'hillcrest', string>;
  readonly gateways: GatewayProcess[];
  start(more?: Record<string, string>): Promise<GatewayProcess>;
  /** Writes budgets.yaml with these ε totals (a new policy version). */
  writeBudgets(epsilon: number): void;
  close(): Promise<void>;
}

export async function openFaultCommons(env: Record<string, string> = {}): Promise<FaultCommons> {
  const database = await openTestDatabase('postgres');
  const policyDir = mkdtempSync(join(tmpdir(), 'dpgate-faults-'));
  cpSync(DEMO_POLICY_DIR, policyDir, { recursive: true });
  const commons = join(policyDir, 'commons.yaml');
  writeFileSync(commons, readFileSync(commons, 'utf8').replace('accounting: zcdp', 'accounting: basic'));
  const writeBudgets = (epsilon: number) =>
    writeFileSync(
      join(policyDir, 'budgets.yaml'),
      `budgets:\n${COMMUNITIES.map((c) => `  ${c}: { epsilon: ${epsilon}, delta: 1.0e-3 }`).join('\n')}\n`,
    );
  writeBudgets(100_000);
  const url = new URL(database.url!);
  url.searchParams.set('application_name', GATEWAY_APPLICATION_NAME);
  const gatewayEnv = {
    DATABASE_URL: url.toString(),
    DPGATE_POLICY_DIR: policyDir,
    DPGATE_DATA_DIR: policyDir,
    DPGATE_DEMO: '0',
    LOG_LEVEL: 'info',
    DPGATE_RATE_LIMIT_PER_MINUTE: '1000000',
    DPGATE_RATE_LIMIT_BURST: '1000000',
    DPGATE_MAX_IN_FLIGHT_PER_KEY: '1000',
    ...env,
  };
  const key = async (role: 'analyst' | 'council' | 'contributor', name: string, communityId?: string) =>
    (await createApiKey(database.db, { role, name, ...(communityId ? { communityId } : {}) })).key;
  const keys = {
    analyst: await key('analyst', 'fault analyst'),
    otherAnalyst: await key('analyst', 'other analyst'),
    council: await key('council', 'fault council'),
    riverside: await key('contributor', 'riverside contributor', 'riverside'),
    hillcrest: await key('contributor', 'hillcrest contributor', 'hillcrest'),
  };
  const gateways: GatewayProcess[] = [];
  return {
    database,
    policyDir,
    env: gatewayEnv,
    keys,
    gateways,
    writeBudgets,
    async start(more = {}) {
      const gateway = await startGateway({ ...gatewayEnv, ...more }, 60_000);
      gateways.push(gateway);
      return gateway;
    },
    async close() {
      await Promise.all(gateways.map((gateway) => stopGateway(gateway)));
      await database.close();
      rmSync(policyDir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, then SIGKILL if the process has not gone within five seconds. */
export async function stopGateway(gateway: GatewayProcess): Promise<void> {
  if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) return;
  const timer = setTimeout(() => gateway.child.kill('SIGKILL'), 5_000);
  await gateway.stop('SIGTERM');
  clearTimeout(timer);
}

export function isRunning(gateway: GatewayProcess): boolean {
  return gateway.child.exitCode === null && gateway.child.signalCode === null;
}

export interface Outcome {
  readonly status: number | 'network_error' | 'timeout';
  readonly code?: string;
  readonly text?: string;
  readonly headers?: Headers;
  readonly ms: number;
}

/** One request with a deadline: a hang is an outcome of its own, never a stuck test. */
export async function send(
  url: string,
  init: RequestInit & { key?: string; json?: unknown },
  timeoutMs = 20_000,
): Promise<Outcome> {
  const started = performance.now();
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  try {
    const response = await fetch(url, {
      ...init,
      headers,
      body: init.json === undefined ? init.body : JSON.stringify(init.json),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    return {
      status: response.status,
      ...(code ? { code } : {}),
      text,
      headers: response.headers,
      ms: performance.now() - started,
    };
  } catch (error) {
    const name = (error as Error).name;
    return {
      status: name === 'TimeoutError' ? 'timeout' : 'network_error',
      ms: performance.now() - started,
    };
  }
}

export interface LoadTally {
  requests: number;
  readonly byStatus: Record<string, number>;
  /** `status code` pairs seen, for the report. */
  readonly byCode: Record<string, number>;
  slowestMs: number;
}

export function newTally(): LoadTally {
  return { requests: 0, byStatus: {}, byCode: {}, slowestMs: 0 };
}

export function count(tally: LoadTally, outcome: Outcome): void {
  tally.requests += 1;
  tally.byStatus[outcome.status] = (tally.byStatus[outcome.status] ?? 0) + 1;
  const label = `${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`;
  tally.byCode[label] = (tally.byCode[label] ?? 0) + 1;
  tally.slowestMs = Math.max(tally.slowestMs, Math.round(outcome.ms));
}

let sequence = 0;

/** A private query that is new each time (no stored answer to reuse), over every community or one. */
export function freshQuery(community?: string): { sql: string; epsilon: number } {
  sequence += 1;
  const where = community ? ` AND community_id = '${community}'` : '';
  return {
    sql: `SELECT COUNT(*) FROM people WHERE age > ${sequence % 97}${where}`,
    epsilon: 0.001 + sequence * 1e-9,
  };
}

/**
 * `concurrency` clients, each sending one query after another to the gateways (round robin over
 * whatever `targets()` returns then), until `durationMs` has passed.
 */
export async function runLoad(options: {
  readonly targets: () => readonly GatewayProcess[];
  readonly key: string;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly tally: LoadTally;
}): Promise<void> {
  const deadline = Date.now() + options.durationMs;
  let turn = 0;
  const client = async () => {
    while (Date.now() < deadline) {
      const targets = options.targets();
      const gateway = targets[turn++ % Math.max(1, targets.length)];
      if (!gateway) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const outcome = await send(`${gateway.url}/v1/queries`, {
        method: 'POST',
        key: options.key,
        json: freshQuery(),
      });
      count(options.tally, outcome);
      if (outcome.status === 'network_error') await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
}

/** The deadlocks PostgreSQL has detected in this database so far. */
export async function deadlocks(database: TestDatabase): Promise<number> {
  const result = await sql<{ deadlocks: string }>`
    select deadlocks from pg_stat_database where datname = current_database()`.execute(database.db);
  return Number(result.rows[0]?.deadlocks ?? 0);
}

/** The one-line summary each fault test prints, read into the suite's report. */
export function report(test: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ fault_test: test, ...fields }));
}

/** The ledger invariants, checked again until they hold (pending answers awaiting the sweep) or time runs out. */
export async function waitForInvariants(commons: FaultCommons, withinMs: number): Promise<LedgerInvariants> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const invariants = await checkLedgerInvariants(commons.database.db);
    if (invariants.held || Date.now() > deadline) return invariants;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Registers a commons with `gateways` gateway processes for the enclosing describe block: opened
 * before its tests, closed (processes stopped, database dropped) after them.
 */
export function useFaultCommons(gateways: number, env: Record<string, string> = {}): () => FaultCommons {
  let commons: FaultCommons | undefined;
  beforeAll(async () => {
    commons = await openFaultCommons(env);
    await Promise.all(Array.from({ length: gateways }, () => commons!.start()));
  }, 120_000);
  afterAll(async () => {
    await commons?.close();
  });
  return () => {
    if (!commons) throw new Error('the fault commons is not open yet');
    return commons;
  };
}
