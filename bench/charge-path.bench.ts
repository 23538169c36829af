/**
 * The charge of a fresh answer alone (budget lock, checks, debit, charge rows, pending answer,
 * audit entry, commit), from 32 concurrent callers in one process on one PostgreSQL database, each
 * charge over all three communities: charges committed per second and p50/p99 latency.
 *
 * BENCH_CHECKOUTS names checkouts to compare (comma-separated, default this one): a checkout whose
 * ledger has `group-commit.ts` is charged through `chargeAnswer`; an older one through the
 * transaction its `chargeAndAnswer` ran (`commitCharge`, `insertPendingAnswer`, `appendAudit` in
 * a `ledgerTransaction`). Runs interleave checkouts A B A B on one database.
 *
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test). Run:
 * `npx tsx bench/charge-path.bench.ts`. Knobs: BENCH_SECONDS (5), BENCH_ROUNDS (5),
 * BENCH_ACCOUNTING (basic, zcdp or rdp; basic by default: pure-ε charges of the discrete Laplace;
 * zcdp and rdp: Gaussian charges of ρ, whose checks the gateway makes on the rows).
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { zcdpBudget } from '../src/dp/accounting/index.ts';
import { rdpBudget } from '../src/dp/accounting/rdp-ledger.ts';
import { releaseCost } from '../src/ledger/release-cost.ts';
import { openTestDatabase } from '../test/support/databases.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CALLERS = 32;
const COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'];
const HERE = fileURLToPath(new URL('..', import.meta.url));
const CHECKOUTS = (process.env.BENCH_CHECKOUTS ?? HERE).split(',').map((path) => resolve(path));
const ACCOUNTING = (process.env.BENCH_ACCOUNTING ?? 'basic') as 'basic' | 'zcdp' | 'rdp';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const database = await openTestDatabase('postgres', { demo: false });
const db = database.db;
const EPSILON_TOTAL = 1e9;
const DELTA_TOTAL = 0.5;
for (const id of COMMUNITIES) {
  await db
    .insertInto('dpgate.community_budgets')
    .values({
      community_id: id,
      accounting: ACCOUNTING,
      epsilon_total: String(EPSILON_TOTAL),
      delta_total: String(DELTA_TOTAL),
      rho_total: ACCOUNTING === 'zcdp' ? String(zcdpBudget(EPSILON_TOTAL, DELTA_TOTAL)) : null,
      rdp_order: ACCOUNTING === 'rdp' ? String(rdpBudget(EPSILON_TOTAL, DELTA_TOTAL).order) : null,
      policy_version: 'bench',
    })
    .execute();
}
const cost =
  ACCOUNTING === 'basic'
    ? releaseCost({ losses: [{ kind: 'pure', epsilon: 0.001 }], mechanism: 'discrete_laplace' })
    : releaseCost({ losses: [{ kind: 'zcdp', rho: 1e-6 }], mechanism: 'discrete_gaussian', zcdpDelta: 1e-9 });

type ChargeOnce = (principal: {
  id: string;
  name: string;
  role: 'analyst';
  communityId: null;
}) => Promise<unknown>;

/** How each checkout charges one fresh answer, with its own modules. */
async function chargerOf(checkout: string): Promise<ChargeOnce> {
  const ledger = join(checkout, 'src/ledger');
  const request = (principal: Parameters<ChargeOnce>[0], id: string) => ({
    requestId: id,
    principal,
    kind: 'query' as const,
    subjectId: id,
    description: 'SELECT COUNT(*) FROM people',
    communities: COMMUNITIES,
    cost,
    policyVersion: 'bench',
  });
  const answer = (principal: Parameters<ChargeOnce>[0], id: string) => ({
    id,
    principalId: principal.id,
    idempotencyKey: null,
    requestHash: id,
    queryFingerprint: id,
    policyVersion: 'bench',
  });
  const audit = (principal: Parameters<ChargeOnce>[0], id: string) => ({
    actor: principal.id,
    action: 'query.charged' as const,
    requestId: id,
    details: { answer_id: id, communities: COMMUNITIES },
  });
  if (existsSync(join(ledger, 'group-commit.ts'))) {
    const { chargeAnswer } = await import(join(ledger, 'group-commit.ts'));
    return (principal) => {
      const id = randomUUID();
      return chargeAnswer(db, {
        request: request(principal, id),
        answer: answer(principal, id),
        audit: () => audit(principal, id),
      });
    };
  }
  const { commitCharge } = await import(join(ledger, 'charge.ts'));
  const { insertPendingAnswer } = await import(join(ledger, 'answers.ts'));
  const { appendAudit } = await import(join(ledger, 'audit-log.ts'));
  const { ledgerTransaction } = await import(join(ledger, 'ledger-transaction.ts'));
  return (principal) => {
    const id = randomUUID();
    return ledgerTransaction(db, async (trx: typeof db) => {
      await commitCharge(trx, request(principal, id));
      await insertPendingAnswer(trx, answer(principal, id));
      await appendAudit(trx, audit(principal, id));
    });
  };
}

async function run(charge: ChargeOnce) {
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      const principal = { id: randomUUID(), name: 'bench', role: 'analyst' as const, communityId: null };
      while (performance.now() < until) {
        const started = performance.now();
        await charge(principal);
        latencies.push(performance.now() - started);
      }
    }),
  );
  const sorted = latencies.sort((a, b) => a - b);
  return { perSecond: sorted.length / SECONDS, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

try {
  const chargers = new Map<string, ChargeOnce>();
  for (const checkout of CHECKOUTS) chargers.set(checkout, await chargerOf(checkout));
  console.log(
    `charge path: ${CALLERS} callers, ${ACCOUNTING} accounting, ${SECONDS} s, ${ROUNDS} rounds; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const results = new Map<string, Awaited<ReturnType<typeof run>>[]>(CHECKOUTS.map((c) => [c, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const checkout of CHECKOUTS) {
      const result = await run(chargers.get(checkout)!);
      results.get(checkout)!.push(result);
      console.log(
        `round ${round} ${checkout}: ${result.perSecond.toFixed(0)} charges/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms; load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
  }
  for (const checkout of CHECKOUTS) {
    const mine = results.get(checkout)!;
    console.log(
      `median ${checkout}: ${median(mine.map((r) => r.perSecond)).toFixed(0)} charges/s, p50 ${median(mine.map((r) => r.p50)).toFixed(1)} ms, p99 ${median(mine.map((r) => r.p99)).toFixed(1)} ms`,
    );
  }
  const spent = await sql<{ ok: boolean }>`
    select bool_and(b.epsilon_spent = (select coalesce(sum(c.epsilon), 0) from dpgate.charges c where c.community_id = b.community_id)) as ok
    from dpgate.community_budgets b`.execute(db);
  console.log(`spent columns equal the sum of charge rows: ${spent.rows[0]?.ok}`);
} finally {
  await database.close();
}
