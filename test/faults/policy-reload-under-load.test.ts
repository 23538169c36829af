/**
 * Policy changes and gateway starts while charges are in flight: three gateways under load, a
 * fourth started in the middle (applying the version already in force: a no-op), then two edits of
 * the budgets file that every gateway reloads. Zero 500s, zero deadlocks in PostgreSQL's own
 * counter, every gateway on the new version within a second of it taking effect, and no charge
 * committed under a version after another gateway superseded it.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_KINDS } from '../support/databases.ts';
import {
  deadlocks,
  newTally,
  report,
  runLoad,
  send,
  useFaultCommons,
  waitForInvariants,
} from '../support/fault-harness.ts';

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))(
  'policy reloads and gateway starts under load',
  () => {
    const fault = useFaultCommons(3);

    const versionInForce = async () =>
      (
        await fault()
          .database.db.selectFrom('dpgate.policy_versions')
          .select('version')
          .orderBy('applied_at', 'desc')
          .limit(1)
          .executeTakeFirstOrThrow()
      ).version;

    /** Milliseconds until every gateway's /health reports `version`. */
    const allOn = async (version: string, since: number) => {
      for (;;) {
        const versions = await Promise.all(
          fault().gateways.map(async (gateway) => {
            const outcome = await send(`${gateway.url}/health`, {}, 5_000);
            return outcome.text
              ? (JSON.parse(outcome.text) as { policy_version?: string }).policy_version
              : undefined;
          }),
        );
        if (versions.every((v) => v === version)) return Math.round(performance.now() - since);
        if (performance.now() - since > 15_000) return Number.POSITIVE_INFINITY;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };

    /** The first moment the database has a version other than `before` in force. */
    const takesEffect = async (before: string) => {
      for (;;) {
        const version = await versionInForce();
        if (version !== before) return { version, at: performance.now() };
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    it('answers without 500s or deadlocks, and every gateway follows each new version', async () => {
      const deadlocksBefore = await deadlocks(fault().database);
      const tally = newTally();
      const load = runLoad({
        targets: () => fault().gateways,
        key: fault().keys.analyst,
        durationMs: 14_000,
        concurrency: 6,
        tally,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const fourth = await fault().start();
      const followMs: number[] = [];
      for (const epsilon of [200_000, 300_000]) {
        const before = await versionInForce();
        const effect = takesEffect(before);
        fault().writeBudgets(epsilon);
        const { version, at } = await effect;
        followMs.push(await allOn(version, at));
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      await load;
      const finalVersion = await versionInForce();
      const stale = await sql<{ n: number }>`
      select count(*)::int as n from dpgate.charges c join dpgate.policy_versions v on v.version = c.policy_version
      where c.created_at > (select applied_at from dpgate.policy_versions where version = ${finalVersion})
        and c.policy_version <> ${finalVersion}`.execute(fault().database.db);
      // The statistics collector publishes counters with a short delay.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await sql`select pg_stat_clear_snapshot()`.execute(fault().database.db);
      const deadlocksAfter = await deadlocks(fault().database);
      const invariants = await waitForInvariants(fault(), 5_000);
      report('4th gateway start and 2 policy reloads under load, 3 gateways', {
        requests: tally.requests,
        ok: tally.byStatus[200] ?? 0,
        unavailable: tally.byStatus[503] ?? 0,
        by_code: tally.byCode,
        fourth_gateway_ready_ms: Math.round(fourth.readyAfterMs),
        all_gateways_on_new_version_ms: followMs,
        charges_under_superseded_version: stale.rows[0]!.n,
        deadlocks: deadlocksAfter - deadlocksBefore,
        invariants: invariants.held,
        violations: invariants.violations,
      });
      expect(Object.keys(tally.byStatus).filter((status) => status !== '200' && status !== '503')).toEqual(
        [],
      );
      expect(deadlocksAfter - deadlocksBefore).toBe(0);
      for (const ms of followMs) expect(ms).toBeLessThan(1_000);
      expect(stale.rows[0]!.n).toBe(0);
      expect(invariants.violations).toEqual([]);
    }, 120_000);
  },
);
