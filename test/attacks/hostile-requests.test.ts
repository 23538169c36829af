/**
 * What an attacker (or a careless client) sends a real gateway process: broken and oversized
 * bodies, bodies that are not JSON, SQL that writes or runs several statements, forged and missing
 * keys, reads of other principals' data, hostile ε/δ. Each gets a 4xx with a stable code, never a
 * 500, costs nothing, and leaves the ledger invariants intact.
 */
import { request as httpRequest } from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_KINDS } from '../support/databases.ts';
import { type FaultCommons, type Outcome, openFaultCommons, report, send } from '../support/fault-harness.ts';
import { checkLedgerInvariants } from '../support/ledger-invariants.ts';

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('hostile requests to a gateway process', () => {
  let commons: FaultCommons;
  let url: string;
  const seen: Outcome[] = [];

  beforeAll(async () => {
    commons = await openFaultCommons();
    url = (await commons.start()).url;
  }, 120_000);

  afterAll(async () => {
    const invariants = commons ? await checkLedgerInvariants(commons.database.db) : undefined;
    report('hostile requests', {
      requests: seen.length,
      by_status: Object.fromEntries(
        [...new Set(seen.map((o) => o.status))].map((s) => [s, seen.filter((o) => o.status === s).length]),
      ),
      invariants: invariants?.held,
    });
    await commons?.close();
  });

  const charges = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from dpgate.charges`.execute(commons.database.db))
      .rows[0]!.n;

  const post = async (path: string, init: RequestInit & { key?: string; json?: unknown }) => {
    const outcome = await send(`${url}${path}`, { method: 'POST', ...init });
    seen.push(outcome);
    return outcome;
  };
  const get = async (path: string, key?: string) => {
    const outcome = await send(`${url}${path}`, key ? { key } : {});
    seen.push(outcome);
    return outcome;
  };

  it.each([
    ['malformed JSON', '{"sql": "SELECT COUNT(*) FROM people",', 'application/json', 400, 'invalid_json'],
    ['truncated JSON', '{"sql": "SELECT COUNT(*) FROM peo', 'application/json', 400, 'invalid_json'],
    ['JSON that is not an object', '[1, 2, 3]', 'application/json', 400, 'invalid_request'],
    ['text/plain', '{"sql": "SELECT COUNT(*) FROM people"}', 'text/plain', 415, 'unsupported_media_type'],
    [
      'a form body',
      'sql=SELECT+COUNT(*)+FROM+people',
      'application/x-www-form-urlencoded',
      415,
      'unsupported_media_type',
    ],
    ['no content type', '{"sql": "SELECT COUNT(*) FROM people"}', undefined, 415, 'unsupported_media_type'],
  ])('%s on /v1/queries gets %s %s', async (_name, body, type, status, code) => {
    const before = await charges();
    const headers: Record<string, string> = type ? { 'content-type': type } : {};
    // fetch adds text/plain to a string body; a Blob without a type sends no content type at all.
    const outcome = await post('/v1/queries', {
      key: commons.keys.analyst,
      headers,
      body: type ? body : new Blob([body]),
    });
    expect({ status: outcome.status, code: outcome.code }).toEqual({ status, code });
    expect(await charges()).toBe(before);
  });

  /**
   * Sends a 5 MB body with node:http, which reads a response that arrives while the body is still
   * being written (as curl does; fetch drops it when the server then closes the connection). With a
   * Content-Length, or streamed in chunks without one.
   */
  const postOversized = (path: string, key: string, withLength: boolean) =>
    new Promise<Outcome>((resolve) => {
      const started = performance.now();
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const chunks = 80;
      const request = httpRequest(`${url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          ...(withLength ? { 'content-length': String(chunk.length * chunks) } : {}),
        },
        timeout: 20_000,
      });
      let answered = false;
      const give = (outcome: Omit<Outcome, 'ms'>) => {
        if (answered) return;
        answered = true;
        const full = { ...outcome, ms: performance.now() - started };
        seen.push(full);
        resolve(full);
      };
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (part: string) => {
          text += part;
        });
        response.on('end', () => {
          const code = (JSON.parse(text) as { code?: string }).code;
          give({ status: response.statusCode ?? 0, ...(code ? { code } : {}), text });
        });
      });
      // The gateway closes the connection once it has answered: a write failing after the answer is expected.
      request.on('error', () => give({ status: 'network_error' }));
      request.on('timeout', () => {
        give({ status: 'timeout' });
        request.destroy();
      });
      const write = (sent: number) => {
        if (answered || request.destroyed) return;
        if (sent === chunks) return void request.end();
        if (request.write(chunk)) write(sent + 1);
        else request.once('drain', () => write(sent + 1));
      };
      write(0);
    });

  it.each(['/v1/queries', '/v1/training-jobs', '/v1/policies/check'])(
    'a 5 MB body on %s gets 413 without being read',
    async (path) => {
      const outcome = await postOversized(path, commons.keys.council, true);
      expect({ status: outcome.status, code: outcome.code }).toEqual({
        status: 413,
        code: 'payload_too_large',
      });
    },
  );

  it('a 5 MB body streamed without Content-Length gets 413', async () => {
    const outcome = await postOversized('/v1/queries', commons.keys.analyst, false);
    expect({ status: outcome.status, code: outcome.code }).toEqual({
      status: 413,
      code: 'payload_too_large',
    });
  });

  it.each([
    ['a DELETE in a CTE', 'WITH d AS (DELETE FROM people RETURNING 1) SELECT COUNT(*) FROM d'],
    ['an UPDATE in a CTE', 'WITH u AS (UPDATE people SET age = 0 RETURNING 1) SELECT COUNT(*) FROM u'],
    [
      'an INSERT in a nested CTE',
      'SELECT COUNT(*) FROM (WITH i AS (INSERT INTO people DEFAULT VALUES RETURNING 1) SELECT * FROM i) s',
    ],
    ['SELECT INTO', 'SELECT COUNT(*) INTO stolen FROM people'],
    ['FOR UPDATE', 'SELECT COUNT(*) FROM people FOR UPDATE'],
    ['two statements', 'SELECT COUNT(*) FROM people; DELETE FROM people'],
    ['a statement after a comment', 'SELECT COUNT(*) FROM people /* ; */ ; DROP TABLE people'],
  ])('%s is refused in analysis at no cost', async (_name, query) => {
    const before = await charges();
    const outcome = await post('/v1/queries', {
      key: commons.keys.analyst,
      json: { sql: query, epsilon: 0.1 },
    });
    expect(outcome.status).toBe(422);
    expect(['not_a_select', 'multiple_statements']).toContain(outcome.code);
    expect(await charges()).toBe(before);
  });

  it.each([
    ['a forged key', 'dpg_forged_0000000000000000000000000000'],
    ['a key of the wrong shape', 'not a key at all'],
  ])('%s gets 401', async (_name, key) => {
    expect((await post('/v1/queries', { key, json: { sql: 'SELECT COUNT(*) FROM people' } })).status).toBe(
      401,
    );
    expect((await get('/v1/communities/riverside/ledger', key)).status).toBe(401);
  });

  it('a missing key gets 401', async () => {
    expect((await post('/v1/queries', { json: { sql: 'SELECT COUNT(*) FROM people' } })).status).toBe(401);
    expect((await get('/v1/communities')).status).toBe(401);
  });

  it("a contributor cannot read another community's ledger", async () => {
    const own = await get('/v1/communities/riverside/ledger', commons.keys.riverside);
    expect(own.status).toBe(200);
    const other = await get('/v1/communities/hillcrest/ledger', commons.keys.riverside);
    expect([403, 404]).toContain(other.status);
    expect(other.text).not.toContain('"charges"');
  });

  it("an analyst cannot read another analyst's answers", async () => {
    const asked = await post('/v1/queries', {
      key: commons.keys.analyst,
      json: { sql: 'SELECT COUNT(*) FROM people WHERE age > 44', epsilon: 0.1 },
    });
    expect(asked.status).toBe(200);
    const id = (JSON.parse(asked.text!) as { id: string }).id;
    expect((await get(`/v1/queries/${id}`, commons.keys.analyst)).status).toBe(200);
    const other = await get(`/v1/queries/${id}`, commons.keys.otherAnalyst);
    expect({ status: other.status, code: other.code }).toEqual({ status: 404, code: 'not_found' });
    // Nor by replaying the same idempotency key: keys are per principal.
    const keyed = {
      sql: 'SELECT COUNT(*) FROM people WHERE age > 45',
      epsilon: 0.1,
      idempotency_key: 'shared',
    };
    const mine = await post('/v1/queries', { key: commons.keys.analyst, json: keyed });
    const theirs = await post('/v1/queries', { key: commons.keys.otherAnalyst, json: keyed });
    expect(mine.status).toBe(200);
    expect(theirs.status).toBe(200);
    expect((JSON.parse(theirs.text!) as { id: string }).id).not.toBe(
      (JSON.parse(mine.text!) as { id: string }).id,
    );
  });

  it.each([
    ['NaN', '{"sql":"SELECT COUNT(*) FROM people","epsilon":NaN}'],
    ['Infinity', '{"sql":"SELECT COUNT(*) FROM people","epsilon":Infinity}'],
    ['1e999', '{"sql":"SELECT COUNT(*) FROM people","epsilon":1e999}'],
    ['-1e999', '{"sql":"SELECT COUNT(*) FROM people","epsilon":-1e999}'],
    ['a negative ε', '{"sql":"SELECT COUNT(*) FROM people","epsilon":-0.5}'],
    ['zero ε', '{"sql":"SELECT COUNT(*) FROM people","epsilon":0}'],
    ['ε as a string', '{"sql":"SELECT COUNT(*) FROM people","epsilon":"0.1"}'],
    ['δ of 1', '{"sql":"SELECT COUNT(*) FROM people","mechanism":"gaussian","delta":1}'],
    ['a negative δ', '{"sql":"SELECT COUNT(*) FROM people","mechanism":"gaussian","delta":-1e-9}'],
    ['δ of 1e999', '{"sql":"SELECT COUNT(*) FROM people","mechanism":"gaussian","delta":1e999}'],
    ['δ of NaN', '{"sql":"SELECT COUNT(*) FROM people","mechanism":"gaussian","delta":NaN}'],
  ])('%s gets 400 with a code, at no cost', async (_name, body) => {
    const before = await charges();
    const outcome = await post('/v1/queries', {
      key: commons.keys.analyst,
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(outcome.status).toBe(400);
    expect(['invalid_json', 'invalid_request']).toContain(outcome.code);
    expect(await charges()).toBe(before);
  });

  it('a huge but finite ε is refused by the policy limit (422 epsilon_too_large), at no cost', async () => {
    const before = await charges();
    const outcome = await post('/v1/queries', {
      key: commons.keys.analyst,
      json: { sql: 'SELECT COUNT(*) FROM people', epsilon: 1e308 },
    });
    expect({ status: outcome.status, code: outcome.code }).toEqual({
      status: 422,
      code: 'epsilon_too_large',
    });
    expect(await charges()).toBe(before);
  });

  it('a budget refusal (409) writes an audit entry', async () => {
    await commons.database.db
      .updateTable('dpgate.community_budgets')
      .set({ epsilon_total: sql`epsilon_spent` })
      .where('community_id', '=', 'lakeside')
      .execute();
    const refusals = async () =>
      (
        await sql<{ n: number }>`
          select count(*)::int as n from dpgate.audit_log
          where action = 'query.refused' and details->>'code' = 'budget_exhausted'`.execute(
          commons.database.db,
        )
      ).rows[0]!.n;
    const before = await refusals();
    const outcome = await post('/v1/queries', {
      key: commons.keys.analyst,
      json: { sql: "SELECT COUNT(*) FROM people WHERE community_id = 'lakeside'", epsilon: 0.1 },
    });
    expect({ status: outcome.status, code: outcome.code }).toEqual({ status: 409, code: 'budget_exhausted' });
    expect(await refusals()).toBe(before + 1);
  });

  it('the contributor view publishes the exact ledger decimals beside the floats', async () => {
    const outcome = await get('/v1/communities/riverside/ledger', commons.keys.riverside);
    const community = (
      JSON.parse(outcome.text!) as {
        community: { exact: { spent: { epsilon: string }; remaining: { epsilon: string } } };
      }
    ).community;
    const row = await sql<{ spent: string; left: string }>`
      select epsilon_spent::text as spent, (epsilon_total - epsilon_spent)::text as left
      from dpgate.community_budgets where community_id = 'riverside'`.execute(commons.database.db);
    expect(community.exact.spent.epsilon).toBe(row.rows[0]!.spent);
    expect(community.exact.remaining.epsilon).toBe(row.rows[0]!.left);
  });

  it('leaves the ledger invariants intact', async () => {
    expect((await checkLedgerInvariants(commons.database.db)).violations).toEqual([]);
    expect(seen.filter((outcome) => outcome.status === 500)).toEqual([]);
  });
});
