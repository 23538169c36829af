import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/ledger/audit-log.ts';
import {
  BudgetExhaustedError,
  IdempotencyKeyTakenError,
  PolicySupersededError,
} from '../../src/ledger/charge.ts';
import { chargeAnswer } from '../../src/ledger/group-commit.ts';
import { releaseCost } from '../../src/ledger/release-cost.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { answerCharge, pureCharge, setBudget, testPrincipal } from '../support/ledger.ts';

const analyst = testPrincipal();

describeEachDatabase(
  'group commit of answer charges',
  (database) => {
    const db = () => database().db;
    const chargeRows = async (community: string) =>
      (
        await db()
          .selectFrom('dpgate.charges')
          .select(sql<number>`count(*)`.as('n'))
          .where('community_id', '=', community)
          .executeTakeFirstOrThrow()
      ).n;
    const answers = async (principalId: string) =>
      (
        await db()
          .selectFrom('dpgate.released_answers')
          .select(sql<number>`count(*)`.as('n'))
          .where('principal_id', '=', principalId)
          .executeTakeFirstOrThrow()
      ).n;

    it('checks each concurrent charge on its own: the affordable ones commit, a refused one costs nothing', async () => {
      await setBudget(db(), 'group', { accounting: 'basic', epsilon: 1, delta: 1e-6 });
      const auditBefore = await verifyAuditChain(db());
      const outcomes = await Promise.allSettled(
        Array.from({ length: 15 }, () =>
          chargeAnswer(db(), answerCharge(pureCharge(['group'], 0.1, { principal: analyst }))),
        ),
      );
      const charged = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(charged).toHaveLength(10);
      expect(refused.every((o) => o.reason instanceof BudgetExhaustedError)).toBe(true);
      const budget = await db()
        .selectFrom('dpgate.community_budgets')
        .select('epsilon_spent')
        .where('community_id', '=', 'group')
        .executeTakeFirstOrThrow();
      expect(budget.epsilon_spent).toMatch(/^1(\.0*)?$/);
      // One charge row, one pending answer and one audit entry per charged answer, none for the refused.
      expect(await chargeRows('group')).toBe(10);
      expect(await answers(analyst.id)).toBe(10);
      expect(await verifyAuditChain(db())).toMatchObject({ ok: true, entries: auditBefore.entries + 10 });
      // What each answer is told is left counts down with the order of commit.
      const left = charged.map((o) =>
        o.status === 'fulfilled' && o.value.status === 'charged' ? o.value.charges[0]!.remaining.epsilon : -1,
      );
      expect(new Set(left.map((e) => e.toFixed(6))).size).toBe(10);
    });

    it('refuses a taken idempotency key and a superseded version without rolling back the rest', async () => {
      await setBudget(db(), 'keys', { accounting: 'basic', epsilon: 10, delta: 1e-6 });
      const other = testPrincipal();
      const request = () => pureCharge(['keys'], 0.5, { principal: other });
      const outcomes = await Promise.allSettled([
        chargeAnswer(db(), answerCharge(request(), 'same-key')),
        chargeAnswer(db(), answerCharge(request(), 'same-key')),
        chargeAnswer(db(), answerCharge({ ...request(), policyVersion: 'older' })),
        chargeAnswer(db(), answerCharge(request())),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(IdempotencyKeyTakenError);
      expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(PolicySupersededError);
      const budget = await db()
        .selectFrom('dpgate.community_budgets')
        .select('epsilon_spent')
        .where('community_id', '=', 'keys')
        .executeTakeFirstOrThrow();
      expect(budget.epsilon_spent).toMatch(/^1(\.0*)?$/);
      expect(await chargeRows('keys')).toBe(2);
      expect(await answers(other.id)).toBe(2);
    });

    it('plans each zcdp charge of a group on the spend the ones before it leave', async () => {
      await setBudget(db(), 'zgroup', { accounting: 'zcdp', epsilon: 1, delta: 1e-5 });
      const gaussian = () => ({
        ...pureCharge(['zgroup'], 0, { principal: analyst }),
        cost: releaseCost({
          losses: [{ kind: 'zcdp', rho: 0.002 }],
          mechanism: 'discrete_gaussian',
          zcdpDelta: 1e-6,
        }),
      });
      const together = await Promise.allSettled(
        Array.from({ length: 40 }, () => chargeAnswer(db(), answerCharge(gaussian()))),
      );
      const accepted = together.filter((o) => o.status === 'fulfilled').length;
      // The same budget charged one at a time admits the same number.
      await setBudget(db(), 'zgroup', { accounting: 'zcdp', epsilon: 1, delta: 1e-5 });
      let oneByOne = 0;
      for (let i = 0; i < 40; i++) {
        const ok = await chargeAnswer(db(), answerCharge(gaussian())).then(
          () => true,
          () => false,
        );
        if (ok) oneByOne++;
      }
      expect(accepted).toBe(oneByOne);
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(40);
    });
  },
  { demo: false },
);
