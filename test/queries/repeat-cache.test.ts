/**
 * Repeats served from the process: a repeat seen before is answered with no planning and no
 * statement but authentication; a policy reload drops every kept plan, and a repeat is free only
 * while the policy in force says `reuse_answers`.
 */
import { describe, expect, it } from 'vitest';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { RepeatCache } from '../../src/queries/repeat-cache.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { demoPolicyFiles, demoPolicySnapshot, editFile } from '../support/demo-policy.ts';
import { countingStatements } from '../support/statement-counter.ts';

describe('RepeatCache', () => {
  it('plans a request once per policy snapshot', async () => {
    const cache = new RepeatCache();
    const snapshot = await demoPolicySnapshot();
    const reloaded = { ...snapshot };
    let planned = 0;
    const plan = () => {
      planned++;
      return { planned: { ok: false } as never, fingerprint: undefined };
    };
    cache.plan(snapshot, 'a', plan);
    cache.plan(snapshot, 'a', plan);
    expect(planned).toBe(1);
    cache.plan(snapshot, 'b', plan);
    cache.plan(reloaded, 'a', plan);
    expect(planned).toBe(3);
  });

  it('keeps repeats by principal and fingerprint, and only the most recent ones', () => {
    const cache = new RepeatCache();
    cache.keepRepeat('p1', 'f', 'one');
    expect(cache.repeat('p1', 'f')).toBe('one');
    expect(cache.repeat('p2', 'f')).toBeUndefined();
    for (let i = 0; i < 10_001; i++) cache.keepRepeat('p3', `f${i}`, 'x');
    expect(cache.repeat('p1', 'f')).toBeUndefined();
    expect(cache.repeat('p3', 'f10000')).toBe('x');
  });
});

describeEachDatabase('repeats served from the process', (database) => {
  /** An app whose database counts the statements it is sent. */
  const countingApp = async () => {
    const counting = countingStatements(database().db);
    const t = await createTestApp(database(), () => ({ db: counting.db }));
    return { ...t, sent: counting.sent };
  };
  type Answer = { rows: unknown[][]; repeated: boolean; charged: unknown[] };
  const ask = async (t: Awaited<ReturnType<typeof countingApp>>, body: Record<string, unknown>) => {
    const response = await t.query(body);
    expect(response.status).toBe(200);
    return (await response.json()) as Answer;
  };

  it('answers a repeat seen before with its stored bytes and no statement but authentication', async () => {
    const t = await countingApp();
    const body = { sql: 'SELECT educ, COUNT(*) FROM people GROUP BY educ', epsilon: 0.3 };
    const first = await ask(t, body);
    const second = await ask(t, body);
    expect(second).toMatchObject({ rows: first.rows, repeated: true, charged: [] });
    const before = t.sent.statements;
    const third = await ask(t, body);
    expect(third).toEqual(second);
    // Authentication reads the API key from the database; nothing else is sent.
    expect(t.sent.statements - before).toBe(1);
  });

  it('charges again after a reload that stops reusing answers, and after any new policy version', async () => {
    const t = await countingApp();
    const body = { sql: 'SELECT COUNT(*) FROM people WHERE age > 30', epsilon: 0.2 };
    await ask(t, body);
    expect(await ask(t, body)).toMatchObject({ repeated: true });

    const files = await demoPolicyFiles();
    const noReuse = await validatePolicyFiles(
      editFile(files, 'commons.yaml', (text) => text.replace('reuse_answers: true', 'reuse_answers: false')),
    );
    if (!noReuse.ok) throw new Error('the edited policy should be valid');
    await applyPolicy(database().db, noReuse.snapshot);
    t.policies.accept(noReuse.snapshot);
    const charged = await ask(t, body);
    expect(charged.repeated).toBe(false);
    expect(charged.charged).not.toEqual([]);

    // Reusing again, under a version that has released nothing yet: the first answer is charged.
    const reuseAgain = await validatePolicyFiles(
      editFile(files, 'commons.yaml', (text) =>
        text.replace('statement_timeout_ms: 5000', 'statement_timeout_ms: 6000'),
      ),
    );
    if (!reuseAgain.ok) throw new Error('the edited policy should be valid');
    await applyPolicy(database().db, reuseAgain.snapshot);
    t.policies.accept(reuseAgain.snapshot);
    expect(await ask(t, body)).toMatchObject({ repeated: false });
    expect(await ask(t, body)).toMatchObject({ repeated: true });
  });
});
