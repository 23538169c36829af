/**
 * The same idempotency key sent at once to two gateways: one charge, and both clients get the
 * same answer, byte for byte, with no 500. A later replay sends the stored bytes exactly. A charged
 * answer left pending by a crash becomes answer_failed for its retry once the pending timeout has
 * passed, with its charge kept.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_KINDS } from '../support/databases.ts';
import { count, freshQuery, newTally, report, send, useFaultCommons } from '../support/fault-harness.ts';
import { checkLedgerInvariants } from '../support/ledger-invariants.ts';

const KEYS = 20;
const PENDING_TIMEOUT_MS = 6_000;

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('idempotency keys raced across gateways', () => {
  const fault = useFaultCommons(2, { DPGATE_PENDING_ANSWER_TIMEOUT_MS: String(PENDING_TIMEOUT_MS) });

  const ask = (gateway: number, body: Record<string, unknown>) =>
    send(`${fault().gateways[gateway]!.url}/v1/queries`, {
      method: 'POST',
      key: fault().keys.analyst,
      json: body,
    });

  it('charges each key once and gives both racers the same bytes', async () => {
    const tally = newTally();
    const bodies = Array.from({ length: KEYS }, (_, i) => ({
      ...freshQuery(),
      idempotency_key: `race-${i}`,
    }));
    const pairs = await Promise.all(bodies.map((body) => Promise.all([ask(0, body), ask(1, body)])));
    for (const pair of pairs) for (const outcome of pair) count(tally, outcome);
    const replays = await Promise.all(bodies.map((body, i) => ask(i % 2, body)));
    for (const outcome of replays) count(tally, outcome);
    const charged = await sql<{ n: number }>`
      select count(distinct c.subject_id)::int as n from dpgate.charges c
      join dpgate.released_answers a on a.id::text = c.subject_id where a.idempotency_key like 'race-%'`.execute(
      fault().database.db,
    );
    const invariants = await checkLedgerInvariants(fault().database.db);
    const identical = pairs.filter(([a, b], i) => a.text === b.text && a.text === replays[i]!.text).length;
    report('duplicate idempotency keys to two gateways', {
      requests: tally.requests,
      ok: tally.byStatus[200] ?? 0,
      by_code: tally.byCode,
      keys: KEYS,
      answers_charged: charged.rows[0]!.n,
      byte_identical: identical,
      invariants: invariants.held,
    });
    expect(tally.byStatus).toEqual({ 200: 3 * KEYS });
    expect(charged.rows[0]!.n).toBe(KEYS);
    expect(identical).toBe(KEYS);
    for (const outcome of replays) expect(outcome.headers?.get('idempotent-replayed')).toBe('true');
    expect(invariants.violations).toEqual([]);
  }, 60_000);

  it('a replay sends the stored bytes exactly, whatever the database does to its JSON', async () => {
    const body = { ...freshQuery(), idempotency_key: 'bytes' };
    const first = await ask(0, body);
    const stored = await sql<{ text: string }>`
      select response::text as text from dpgate.released_answers where idempotency_key = 'bytes'`.execute(
      fault().database.db,
    );
    // jsonb reorders keys and respaces, so re-serialising the stored JSON would not match.
    expect(stored.rows[0]!.text).not.toBe(first.text);
    expect((await ask(1, body)).text).toBe(first.text);
  });

  it('a pending answer left by a crash is resolved as failed after the timeout, charge kept', async () => {
    const body = { ...freshQuery(), idempotency_key: 'crashed' };
    const first = await ask(0, body);
    expect(first.status).toBe(200);
    // What a kill -9 between charge and release leaves: the charge, and the answer still pending.
    await sql`alter table dpgate.released_answers disable trigger user`.execute(fault().database.db);
    await sql`
      update dpgate.released_answers set status = 'pending', response = null, response_text = null,
        released_at = null, created_at = now() - interval '1 hour'
      where idempotency_key = 'crashed'`.execute(fault().database.db);
    await sql`alter table dpgate.released_answers enable trigger user`.execute(fault().database.db);
    const chargesBefore = await sql<{ n: number }>`select count(*)::int as n from dpgate.charges`.execute(
      fault().database.db,
    );
    const retry = await ask(1, body);
    expect({ status: retry.status, code: retry.code }).toEqual({ status: 409, code: 'answer_failed' });
    const again = await ask(0, body);
    expect(again.code).toBe('answer_failed');
    const chargesAfter = await sql<{ n: number }>`select count(*)::int as n from dpgate.charges`.execute(
      fault().database.db,
    );
    expect(chargesAfter.rows[0]!.n).toBe(chargesBefore.rows[0]!.n);
    const audited = await sql<{ n: number }>`
      select count(*)::int as n from dpgate.audit_log where action = 'query.failed'`.execute(
      fault().database.db,
    );
    expect(audited.rows[0]!.n).toBeGreaterThan(0);
    expect((await checkLedgerInvariants(fault().database.db)).violations).toEqual([]);
  });
});
