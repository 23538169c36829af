/**
 * `dpgate.commit_charges`, the one statement a charge is: a charge is planned on a snapshot of the
 * budget rows and the statement decides on the locked rows. At the edges of each accounting mode
 * the largest admitted amount is charged and the next representable one is refused; a charge
 * planned on rows that changed since writes nothing and is planned again; two connections charging
 * one budget never overspend it.
 */
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { openPostgres } from '../../src/db/connect-postgres.ts';
import { LEDGER_RDP_ORDERS } from '../../src/dp/accounting/rdp-ledger.ts';
import { verifyAuditChain } from '../../src/ledger/audit-log.ts';
import {
  applyPlanned,
  BudgetExhaustedError,
  type BudgetRecord,
  type ChargeRequest,
  planCharge,
  readBudgets,
  recordCharges,
} from '../../src/ledger/charge.ts';
import { chargeAnswer } from '../../src/ledger/group-commit.ts';
import { releaseCost } from '../../src/ledger/release-cost.ts';
import { type DatabaseKind, describeEachDatabase, type TestDatabase } from '../support/databases.ts';
import { answerCharge, pureCharge, setBudget, testPrincipal } from '../support/ledger.ts';

const analyst = testPrincipal();

const gaussian = (communities: string[], rho: number): ChargeRequest => ({
  ...pureCharge(communities, 0, { principal: analyst }),
  cost: releaseCost({ losses: [{ kind: 'zcdp', rho }], mechanism: 'discrete_gaussian', zcdpDelta: 1e-7 }),
});

/** The next double above a positive x. */
function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

/** Adjacent doubles `admitted` < `refused` where the gateway's check on `row` turns from yes to no. */
function edgeOf(row: BudgetRecord, request: (rho: number) => ChargeRequest) {
  const fits = (rho: number) =>
    planCharge(new Map([[row.community_id, row]]), request(rho)).communities!.every((c) => c.fits);
  let [admitted, refused] = [1e-12, 1e3];
  expect([fits(admitted), fits(refused)]).toEqual([true, false]);
  while (nextUp(admitted) < refused) {
    const middle = admitted + (refused - admitted) / 2;
    const probe = middle > admitted && middle < refused ? middle : nextUp(admitted);
    if (fits(probe)) admitted = probe;
    else refused = probe;
  }
  return { admitted, refused };
}

/**
 * Another gateway's view of the database: its own connections on PostgreSQL (opened as a gateway
 * opens them, so a connection the server drops at teardown is handled as in production), its own
 * charge groups and snapshot.
 */
function secondGateway(database: TestDatabase, kind: DatabaseKind): DatabaseHandle {
  // PGlite is one connection: another Kysely instance over the same driver, so statements take turns.
  if (kind === 'pglite') return { ...database, db: database.db.withoutPlugins(), close: async () => {} };
  return openPostgres(database.url!, 4);
}

describeEachDatabase(
  'the charge statement',
  (database, kind) => {
    const db = () => database().db;
    const row = (id: string) =>
      db()
        .selectFrom('dpgate.community_budgets')
        .selectAll()
        .where('community_id', '=', id)
        .executeTakeFirstOrThrow();
    const chargeRows = async (id: string) =>
      Number(
        (
          await db()
            .selectFrom('dpgate.charges')
            .select(sql<number>`count(*)`.as('n'))
            .where('community_id', '=', id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const snapshotOf = async (id: string) => new Map((await readBudgets(db(), [id])).map((r) => [id, r]));
    const opened: DatabaseHandle[] = [];
    afterAll(async () => {
      await Promise.all(opened.map((other) => other.close()));
    });

    it('basic: a spend exactly equal to the budget is charged, one decimal unit above is refused', async () => {
      await setBudget(db(), 'b-edge', { accounting: 'basic', epsilon: 1, delta: 1e-6 });
      await chargeAnswer(db(), answerCharge(pureCharge(['b-edge'], 0.75)));
      await chargeAnswer(db(), answerCharge(pureCharge(['b-edge'], 0.25)));
      expect(Number((await row('b-edge')).epsilon_spent)).toBe(1);
      await setBudget(db(), 'b-over', { accounting: 'basic', epsilon: 1, delta: 1e-6 });
      // 1 + 2⁻⁵² is written as 1.00000000000001 (15 digits, rounded up): one unit past the total.
      const over = pureCharge(['b-over'], nextUp(1));
      const planned = planCharge(await snapshotOf('b-over'), over);
      expect(planned.communities![0]).toMatchObject({ fits: true, charged: { epsilon: '1.00000000000001' } });
      const { outcomes } = await recordCharges(db(), [{ planned, item: { request: over } }]);
      expect(outcomes[0]).toMatchObject({ status: 'refused', error: expect.any(BudgetExhaustedError) });
      expect(await chargeRows('b-over')).toBe(0);
    });

    it('zcdp: the largest ρ the tight conversion admits is charged, the next double is refused with nothing written', async () => {
      await setBudget(db(), 'z-edge', { accounting: 'zcdp', epsilon: 1, delta: 1e-5 });
      const { admitted, refused } = edgeOf((await snapshotOf('z-edge')).get('z-edge')!, (rho) =>
        gaussian(['z-edge'], rho),
      );
      const audit = await verifyAuditChain(db());
      await expect(chargeAnswer(db(), answerCharge(gaussian(['z-edge'], refused)))).rejects.toBeInstanceOf(
        BudgetExhaustedError,
      );
      expect(await row('z-edge')).toMatchObject({ rho_spent: expect.stringMatching(/^0(\.0*)?$/) });
      expect(await chargeRows('z-edge')).toBe(0);
      expect(await verifyAuditChain(db())).toMatchObject({ entries: audit.entries });
      await chargeAnswer(db(), answerCharge(gaussian(['z-edge'], admitted)));
      expect(Number((await row('z-edge')).rho_spent)).toBeGreaterThanOrEqual(admitted);
    });

    it('zcdp: ρ is also checked on NUMERIC against ρ_total, a refusal rather than a failed statement', async () => {
      await setBudget(db(), 'z-rho', { accounting: 'zcdp', epsilon: 10, delta: 1e-5 });
      await db()
        .updateTable('dpgate.community_budgets')
        .set({ rho_total: '0.01' })
        .where('community_id', '=', 'z-rho')
        .execute();
      await chargeAnswer(db(), answerCharge(gaussian(['z-rho'], 0.01)));
      expect((await row('z-rho')).rho_spent).toMatch(/^0\.010*$/);
      await expect(chargeAnswer(db(), answerCharge(gaussian(['z-rho'], 1e-15)))).rejects.toBeInstanceOf(
        BudgetExhaustedError,
      );
      expect(await chargeRows('z-rho')).toBe(1);
    });

    it('rdp: the largest ρ the Rényi filter admits is charged, the next double is refused with nothing written', async () => {
      // A filter with a spent curve: one charge first, then the edge on what it left.
      await setBudget(db(), 'r-edge', { accounting: 'rdp', epsilon: 2, delta: 1e-5 });
      await chargeAnswer(db(), answerCharge(gaussian(['r-edge'], 0.01)));
      const before = await row('r-edge');
      const { admitted, refused } = edgeOf((await snapshotOf('r-edge')).get('r-edge')!, (rho) =>
        gaussian(['r-edge'], rho),
      );
      await expect(chargeAnswer(db(), answerCharge(gaussian(['r-edge'], refused)))).rejects.toBeInstanceOf(
        BudgetExhaustedError,
      );
      expect(await row('r-edge')).toMatchObject({
        rdp_spent: before.rdp_spent,
        epsilon_spent: before.epsilon_spent,
      });
      expect(await chargeRows('r-edge')).toBe(1);
      await chargeAnswer(db(), answerCharge(gaussian(['r-edge'], admitted)));
      expect(await chargeRows('r-edge')).toBe(2);
    });

    for (const accounting of ['basic', 'zcdp', 'rdp'] as const) {
      it(`${accounting}: a charge on rows this gateway saw last is one statement`, async () => {
        const id = `one-${accounting}`;
        await setBudget(db(), id, { accounting, epsilon: 10, delta: 1e-5 });
        const statements: string[] = [];
        const counted = db().withPlugin({
          transformQuery: ({ node }) => node,
          transformResult: async ({ result }) => result,
        });
        const executor = counted.getExecutor();
        const execute = executor.executeQuery.bind(executor);
        executor.executeQuery = (query) => {
          statements.push(query.sql);
          return execute(query);
        };
        await chargeAnswer(counted, answerCharge(gaussian([id], 0.001)));
        statements.length = 0;
        await chargeAnswer(counted, answerCharge(gaussian([id], 0.001)));
        expect(statements).toEqual([expect.stringContaining('dpgate.commit_charges')]);
      });
    }

    it('a charge planned on rows that changed since is refused as stale, and planned again succeeds', async () => {
      await setBudget(db(), 'stale', { accounting: 'zcdp', epsilon: 1, delta: 1e-5 });
      const first = gaussian(['stale'], 0.001);
      const old = planCharge(await snapshotOf('stale'), first);
      await chargeAnswer(db(), answerCharge(gaussian(['stale'], 0.002)));
      const stale = await recordCharges(db(), [{ planned: old, item: answerCharge(first) }]);
      expect(stale.outcomes).toEqual([{ status: 'stale' }]);
      expect(await chargeRows('stale')).toBe(1);
      expect(
        await db()
          .selectFrom('dpgate.released_answers')
          .select('id')
          .where('id', '=', first.subjectId)
          .execute(),
      ).toEqual([]);
      // Planned again on the rows the statement returned.
      const again = planCharge(new Map(stale.budgets.map((r) => [r.community_id, r])), first);
      const { outcomes } = await recordCharges(db(), [{ planned: again, item: answerCharge(first) }]);
      expect(outcomes[0]).toMatchObject({ status: 'charged' });
      expect(Number((await row('stale')).rho_spent)).toBeCloseTo(0.003, 15);
    });

    it('a gateway whose snapshot another gateway outdated charges on the current rows', async () => {
      await setBudget(db(), 'outdated', { accounting: 'rdp', epsilon: 2, delta: 1e-5 });
      const other = secondGateway(database(), kind);
      opened.push(other);
      await chargeAnswer(db(), answerCharge(gaussian(['outdated'], 0.01)));
      await chargeAnswer(other.db, answerCharge(gaussian(['outdated'], 0.01)));
      await chargeAnswer(db(), answerCharge(gaussian(['outdated'], 0.01)));
      const after = await row('outdated');
      const order = Number(after.rdp_order);
      expect(after.rdp_spent!.curve[LEDGER_RDP_ORDERS.indexOf(order)]).toBeCloseTo(3 * 0.01 * order, 12);
      expect(await chargeRows('outdated')).toBe(3);
    });

    for (const accounting of ['zcdp', 'rdp'] as const) {
      it(`${accounting}: two connections charging at once admit exactly what fits one after another`, async () => {
        const id = `two-${accounting}`;
        await setBudget(db(), id, { accounting, epsilon: 1, delta: 1e-5 });
        const rho = 0.004;
        // How many fit one after another: planned in memory on the rows each charge leaves.
        const snapshot = await snapshotOf(id);
        let fit = 0;
        for (;;) {
          const planned = planCharge(snapshot, gaussian([id], rho));
          if (!planned.communities!.every((c) => c.fits)) break;
          applyPlanned(snapshot, planned);
          fit++;
        }
        const other = secondGateway(database(), kind);
        opened.push(other);
        const outcomes = await Promise.allSettled(
          Array.from({ length: fit + 10 }, (_, i) =>
            chargeAnswer(i % 2 ? other.db : db(), answerCharge(gaussian([id], rho))),
          ),
        );
        const admitted = outcomes.filter((o) => o.status === 'fulfilled').length;
        for (const o of outcomes)
          if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(BudgetExhaustedError);
        expect(admitted).toBe(fit);
        expect(await chargeRows(id)).toBe(fit);
        const spent = await sql<{ equal: boolean }>`
          select b.rho_spent = (select coalesce(sum(c.rho), 0) from dpgate.charges c where c.community_id = b.community_id)
             and b.epsilon_spent <= b.epsilon_total as equal
          from dpgate.community_budgets b where b.community_id = ${id}`.execute(db());
        expect(spent.rows[0]?.equal).toBe(true);
      });
    }
  },
  { demo: false },
);
