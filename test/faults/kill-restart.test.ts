/**
 * kill -9 at random points under load, with restarts: two gateways, four rounds in which one of them
 * is killed after a random delay and started again. Clients of the killed process see their
 * connection drop; everyone else gets an answer or a 503. Keyed requests cut off by a kill get a
 * definite answer when retried on the other gateway (after the pending timeout at the latest): the
 * stored answer, or answer_failed with its charge standing. The invariants hold afterwards.
 */
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_KINDS } from '../support/databases.ts';
import {
  count,
  freshQuery,
  isRunning,
  newTally,
  report,
  runLoad,
  send,
  useFaultCommons,
  waitForInvariants,
} from '../support/fault-harness.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';

const ROUNDS = 4;
const PENDING_TIMEOUT_MS = 8_000;

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('kill -9 at random points with restarts', () => {
  const fault = useFaultCommons(2, { DPGATE_PENDING_ANSWER_TIMEOUT_MS: String(PENDING_TIMEOUT_MS) });

  it('leaves every request answered, refused with 503, or cut off; retries get definite answers', async () => {
    const tally = newTally();
    const keyed: { key: string; body: Record<string, unknown> }[] = [];
    let live: GatewayProcess[] = [...fault().gateways];
    let stopLoad = false;
    const load = (async () => {
      while (!stopLoad)
        await runLoad({
          targets: () => live,
          key: fault().keys.analyst,
          durationMs: 1_000,
          concurrency: 4,
          tally,
        });
    })();
    for (let round = 0; round < ROUNDS; round++) {
      const victim = live[randomInt(live.length)]!;
      // Keyed requests in flight on the victim when it dies.
      const inFlight = Array.from({ length: 6 }, (_, i) => {
        const entry = {
          key: `round-${round}-${i}`,
          body: { ...freshQuery(), idempotency_key: `round-${round}-${i}` },
        };
        keyed.push(entry);
        return send(`${victim.url}/v1/queries`, {
          method: 'POST',
          key: fault().keys.analyst,
          json: entry.body,
        });
      });
      await new Promise((resolve) => setTimeout(resolve, randomInt(20, 800)));
      victim.child.kill('SIGKILL');
      for (const outcome of await Promise.all(inFlight)) count(tally, outcome);
      live = live.filter((gateway) => gateway !== victim);
      live.push(await fault().start());
    }
    stopLoad = true;
    await load;

    // Retry every keyed request on a live gateway until it has a definite answer.
    const survivor = live[0]!;
    const retries = newTally();
    const deadline = Date.now() + PENDING_TIMEOUT_MS + 15_000;
    const definite = await Promise.all(
      keyed.map(async ({ body }) => {
        for (;;) {
          const outcome = await send(`${survivor.url}/v1/queries`, {
            method: 'POST',
            key: fault().keys.analyst,
            json: body,
          });
          if (outcome.code !== 'answer_pending' || Date.now() > deadline) {
            count(retries, outcome);
            return outcome;
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }),
    );
    const invariants = await waitForInvariants(fault(), PENDING_TIMEOUT_MS + 10_000);
    report('kill -9 at random points, 2 gateways, 4 restarts', {
      requests: tally.requests,
      ok: tally.byStatus[200] ?? 0,
      unavailable: tally.byStatus[503] ?? 0,
      cut_off_by_kill: tally.byStatus.network_error ?? 0,
      by_code: tally.byCode,
      keyed_retries: retries.byCode,
      gateways_alive: live.filter(isRunning).length,
      answers: invariants.answers,
      invariants: invariants.held,
      violations: invariants.violations,
    });
    expect(
      Object.keys(tally.byStatus).filter((status) => !['200', '503', 'network_error'].includes(status)),
    ).toEqual([]);
    for (const outcome of definite)
      expect(outcome.status === 200 || outcome.code === 'answer_failed').toBe(true);
    expect(live.filter(isRunning).length).toBe(2);
    expect(invariants.violations).toEqual([]);
  }, 180_000);
});
