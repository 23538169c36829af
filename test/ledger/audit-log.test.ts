import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { appendAudit, GENESIS_HASH, verifyAuditChain } from '../../src/ledger/audit-log.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase(
  'audit log',
  (database) => {
    const db = () => database().db;
    /** What a superuser could do: switch the append-only trigger off for one statement. */
    const tamper = async (statement: ReturnType<typeof sql>) => {
      await db()
        .transaction()
        .execute(async (trx) => {
          await sql`alter table dpgate.audit_log disable trigger audit_log_append_only`.execute(trx);
          await statement.execute(trx);
          await sql`alter table dpgate.audit_log enable trigger audit_log_append_only`.execute(trx);
        });
    };
    const fill = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await appendAudit(db(), {
          actor: 'system',
          action: 'query.charged',
          requestId: `r${i}`,
          details: { i, epsilon: '0.1' },
        });
      }
    };
    const reset = () => tamper(sql`delete from dpgate.audit_log`);

    it('chains entries and verifies an untouched chain', async () => {
      await fill(5);
      const rows = await db().selectFrom('dpgate.audit_log').selectAll().orderBy('id').execute();
      expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
      expect(rows.slice(1).map((row) => row.prev_hash)).toEqual(rows.slice(0, -1).map((row) => row.hash));
      expect(await verifyAuditChain(db())).toEqual({ ok: true, entries: 5, headHash: rows[4]!.hash });
    });

    it('refuses UPDATE and DELETE through its trigger', async () => {
      await expect(db().updateTable('dpgate.audit_log').set({ actor: 'mallory' }).execute()).rejects.toThrow(
        /append-only/,
      );
      await expect(db().deleteFrom('dpgate.audit_log').execute()).rejects.toThrow(/append-only/);
    });

    it('finds an edited entry', async () => {
      const third = (
        await db()
          .selectFrom('dpgate.audit_log')
          .select('id')
          .orderBy('id')
          .offset(2)
          .limit(1)
          .executeTakeFirstOrThrow()
      ).id;
      await tamper(
        sql`update dpgate.audit_log set details = ${JSON.stringify({ i: 2, epsilon: '0.01' })}::jsonb where id = ${third}`,
      );
      expect(await verifyAuditChain(db())).toMatchObject({ ok: false, brokenAtId: third, entries: 2 });
    });

    it('finds a deleted entry', async () => {
      await reset();
      await fill(4);
      const ids = (await db().selectFrom('dpgate.audit_log').select('id').orderBy('id').execute()).map(
        (r) => r.id,
      );
      await tamper(sql`delete from dpgate.audit_log where id = ${ids[1]!}`);
      expect(await verifyAuditChain(db())).toMatchObject({ ok: false, brokenAtId: ids[2] });
    });

    it('finds an inserted entry, even one with a well-formed hash of its own', async () => {
      await reset();
      await fill(3);
      const rows = await db().selectFrom('dpgate.audit_log').selectAll().orderBy('id').execute();
      // A forged entry linked to the first one, with a made-up hash: the next real entry no longer links to it.
      await tamper(
        sql`insert into dpgate.audit_log (id, at, actor, action, request_id, details, prev_hash, hash)
            overriding system value
            values (${rows[0]!.id * 1000 + 1}, now(), 'mallory', 'query.charged', null, '{}'::jsonb, ${rows[0]!.hash}, ${'f'.repeat(64)})`,
      );
      const verification = await verifyAuditChain(db());
      expect(verification.ok).toBe(false);
    });

    it('chains concurrent appends onto one line', async () => {
      await reset();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          appendAudit(db(), { actor: 'system', action: 'key.created', details: { i } }),
        ),
      );
      expect(await verifyAuditChain(db())).toMatchObject({ ok: true, entries: 30 });
    });
  },
  { demo: false },
);
