/**
 * Dropped database connections under load: three gateways answer a steady stream of queries while
 * every gateway backend is terminated (pg_terminate_backend, what a failover or a proxy restart
 * does) every few seconds for 30 s. No gateway process may exit; every client gets an answer or a
 * 503 with Retry-After; /health stays fast; the ledger invariants hold.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_KINDS } from '../support/databases.ts';
import {
  count,
  GATEWAY_APPLICATION_NAME,
  isRunning,
  newTally,
  report,
  runLoad,
  send,
  useFaultCommons,
  waitForInvariants,
} from '../support/fault-harness.ts';
import { checkLedgerInvariants } from '../support/ledger-invariants.ts';

const DURATION_MS = 30_000;
const TERMINATE_EVERY_MS = 3_000;
/** Above the policy's 5 s statement timeout, so only answers truly cut off are resolved. */
const PENDING_TIMEOUT_MS = 8_000;

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('connections terminated under load', () => {
  const fault = useFaultCommons(3, { DPGATE_PENDING_ANSWER_TIMEOUT_MS: String(PENDING_TIMEOUT_MS) });

  it('keeps three gateways up, answering 200 or 503, for 30 s of terminations', async () => {
    const tally = newTally();
    const health = newTally();
    let terminated = 0;
    let rounds = 0;
    const deadline = Date.now() + DURATION_MS;
    const killer = (async () => {
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, TERMINATE_EVERY_MS));
        const result = await sql<{ n: number }>`
          select count(*)::int as n from (
            select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and application_name = ${GATEWAY_APPLICATION_NAME}
          ) t`.execute(fault().database.db);
        terminated += result.rows[0]!.n;
        rounds += 1;
      }
    })();
    const prober = (async () => {
      while (Date.now() < deadline) {
        for (const gateway of fault().gateways) count(health, await send(`${gateway.url}/health`, {}, 5_000));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    await Promise.all([
      killer,
      prober,
      runLoad({
        targets: () => fault().gateways,
        key: fault().keys.analyst,
        durationMs: DURATION_MS,
        concurrency: 6,
        tally,
      }),
    ]);
    // Answers cut off between charge and release are resolved as failed by the gateways' sweep.
    const cutOff =
      (await checkLedgerInvariants(fault().database.db, { allowPending: true })).answers.pending ?? 0;
    const invariants = await waitForInvariants(fault(), PENDING_TIMEOUT_MS + 15_000);
    const alive = fault().gateways.filter(isRunning).length;
    report('connection terminations, 3 gateways, 30 s', {
      requests: tally.requests,
      ok: tally.byStatus[200] ?? 0,
      unavailable: tally.byStatus[503] ?? 0,
      by_code: tally.byCode,
      slowest_ms: tally.slowestMs,
      termination_rounds: rounds,
      backends_terminated: terminated,
      health: health.byStatus,
      health_slowest_ms: health.slowestMs,
      gateways_alive: alive,
      pending_after_load: cutOff,
      answers: invariants.answers,
      invariants: invariants.held,
      violations: invariants.violations,
    });
    expect(alive).toBe(3);
    expect(terminated).toBeGreaterThan(rounds);
    expect(Object.keys(tally.byStatus).filter((status) => status !== '200' && status !== '503')).toEqual([]);
    expect(tally.byStatus[200] ?? 0).toBeGreaterThan(tally.requests / 2);
    expect(health.slowestMs).toBeLessThan(2_500);
    expect(invariants.violations).toEqual([]);
    // Still serving once the terminations stop.
    for (const gateway of fault().gateways) {
      const outcome = await send(`${gateway.url}/v1/queries`, {
        method: 'POST',
        key: fault().keys.analyst,
        json: { sql: 'SELECT COUNT(*) FROM people WHERE age > 30', epsilon: 0.01 },
      });
      expect(outcome.status).toBe(200);
    }
  }, 120_000);
});
