/**
 * Released answers stored in groups (ledger/answers.ts markReleased): concurrent releases of one
 * process go in one statement, each stored with its exact bytes; an answer no longer pending is
 * left as it is; an error of the statement fails every release it carried, and nothing is stored.
 */
import { expect, it } from 'vitest';
import { findAnswer, markFailed, markReleased } from '../../src/ledger/answers.ts';
import { chargeAnswer } from '../../src/ledger/group-commit.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { answerCharge, pureCharge, setBudget, testPrincipal } from '../support/ledger.ts';
import { countingStatements } from '../support/statement-counter.ts';

describeEachDatabase(
  'released answers stored in groups',
  (database) => {
    const db = () => database().db;
    /** Pending answers, as charges leave them. */
    const pendingAnswers = async (n: number) => {
      await setBudget(db(), 'releases', { accounting: 'basic', epsilon: 100, delta: 1e-6 });
      return Promise.all(
        Array.from({ length: n }, async () => {
          const charge = answerCharge(pureCharge(['releases'], 0.1, { principal: testPrincipal() }));
          await chargeAnswer(db(), charge);
          return charge.answer.id;
        }),
      );
    };
    const counting = () => countingStatements(db());

    it('stores concurrent releases in one statement after the first, each with its own bytes', async () => {
      const ids = await pendingAnswers(12);
      const { db: countedDb, sent } = counting();
      const texts = ids.map((id, i) => JSON.stringify({ id, rows: [[i, 'é "quoted"']], n: 0.1 + i }));
      await Promise.all(ids.map((id, i) => markReleased(countedDb, id, texts[i]!)));
      // The first release goes at once; the eleven that arrive while it is stored go together.
      expect(sent.statements).toBe(2);
      for (const [i, id] of ids.entries()) {
        const stored = await findAnswer(db(), id);
        expect(stored).toMatchObject({
          status: 'released',
          response_text: texts[i],
          response: JSON.parse(texts[i]!),
        });
        expect(stored?.released_at).toBeInstanceOf(Date);
      }
    });

    it('leaves an answer that is no longer pending as it is', async () => {
      const [failed, pending] = await pendingAnswers(2);
      await markFailed(db(), failed!);
      await Promise.all([markReleased(db(), failed!, '{"a":1}'), markReleased(db(), pending!, '{"b":2}')]);
      expect(await findAnswer(db(), failed!)).toMatchObject({ status: 'failed', response_text: null });
      expect(await findAnswer(db(), pending!)).toMatchObject({
        status: 'released',
        response_text: '{"b":2}',
      });
    });

    it('fails every release of a statement that fails, and stores none of them', async () => {
      const ids = await pendingAnswers(4);
      const { db: countedDb, sent } = counting();
      // The first goes alone; the three behind it share a statement that one invalid body breaks.
      const outcomes = await Promise.allSettled(
        ids.map((id, i) => markReleased(countedDb, id, i === 2 ? 'not json' : `{"i":${i}}`)),
      );
      expect(sent.statements).toBe(2);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
      const statuses = await Promise.all(ids.map(async (id) => (await findAnswer(db(), id))?.status));
      expect(statuses).toEqual(['released', 'pending', 'pending', 'pending']);
    });
  },
  { demo: false },
);
