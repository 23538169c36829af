import { beforeAll, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase('the API the dashboard reads', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  const get = (path: string, key: string) => t.app.request(path, { headers: t.bearer(key) });
  const post = (path: string, key: string, body?: unknown) =>
    t.app.request(path, {
      method: 'POST',
      headers: { ...t.bearer(key), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await createTestApp(database(), () => ({
      readWebAsset: async (path) =>
        path === 'index.html' ? new TextEncoder().encode('<!doctype html><title>dpgate</title>') : undefined,
    }));
  });

  it('gives each role the catalog of what it may query, without hidden columns or data', async () => {
    const analyst = (await (await get('/v1/catalog', t.keys.analyst)).json()) as {
      tables: { name: string; columns: { name: string; bounds: unknown; public_range: unknown }[] }[];
      limits: Record<string, number>;
      communities: string[];
    };
    expect(analyst.tables.map((table) => table.name)).toEqual(['people', 'survey_responses', 'communities']);
    const age = analyst.tables[0]!.columns.find((column) => column.name === 'age');
    expect(age?.bounds).toEqual([0, 100]);
    expect(analyst.limits.max_epsilon_per_query).toBe(1);
    expect(analyst.communities).toEqual(['hillcrest', 'lakeside', 'riverside']);
    const contributor = (await (await get('/v1/catalog', t.keys.riverside)).json()) as { tables: unknown[] };
    expect(contributor.tables).toEqual([]);
    expect((await t.app.request('/v1/catalog')).status).toBe(401);
  });

  it('lists the caller’s own queries, newest first, a page at a time', async () => {
    for (const sql of ['SELECT COUNT(*) FROM people', 'SELECT AVG(age) FROM people']) {
      expect((await t.query({ sql, epsilon: 0.1 })).status).toBe(200);
    }
    await t.query({ sql: 'SELECT COUNT(*) FROM people', epsilon: 0.2, dry_run: true });
    const first = (await (await get('/v1/queries?limit=1', t.keys.analyst)).json()) as {
      queries: { sql: string; status: string; epsilon: string; communities: string[] }[];
      next_cursor: string;
    };
    expect(first.queries).toHaveLength(1);
    expect(first.queries[0]).toMatchObject({ sql: 'SELECT AVG(age) FROM people', status: 'released' });
    expect(Number(first.queries[0]!.epsilon)).toBeCloseTo(0.1);
    expect(first.queries[0]!.communities).toEqual(['hillcrest', 'lakeside', 'riverside']);
    const second = (await (
      await get(`/v1/queries?limit=1&cursor=${encodeURIComponent(first.next_cursor)}`, t.keys.analyst)
    ).json()) as { queries: { sql: string }[]; next_cursor: string | null };
    expect(second.queries.map((q) => q.sql)).toEqual(['SELECT COUNT(*) FROM people']);
    expect(second.next_cursor).toBeNull();
    const council = (await (await get('/v1/queries', t.keys.council)).json()) as { queries: unknown[] };
    expect(council.queries).toEqual([]);
    expect((await get('/v1/queries?cursor=nonsense', t.keys.analyst)).status).toBe(400);
  });

  it('opens a charge to what it released, and gives the spend after each charge', async () => {
    const ledger = (await (await get('/v1/communities/riverside/ledger', t.keys.riverside)).json()) as {
      charges: { id: string; description: string }[];
      community: { spent: { epsilon: number } };
    };
    const charge = ledger.charges.find((c) => c.description === 'SELECT AVG(age) FROM people')!;
    const detail = (await (
      await get(`/v1/communities/riverside/charges/${charge.id}`, t.keys.riverside)
    ).json()) as {
      accounting: string;
      communities: string[];
      answer: { status: string; columns: string[]; rows: unknown[][] };
    };
    expect(detail.accounting).toBe('zcdp');
    expect(detail.communities).toEqual(['hillcrest', 'lakeside', 'riverside']);
    expect(detail.answer.status).toBe('released');
    expect(detail.answer.rows).toHaveLength(1);
    expect((await get(`/v1/communities/riverside/charges/${charge.id}`, t.keys.analyst)).status).toBe(403);
    expect((await get(`/v1/communities/hillcrest/charges/${charge.id}`, t.keys.riverside)).status).toBe(403);
    expect(
      (await get(`/v1/communities/riverside/charges/${crypto.randomUUID()}`, t.keys.council)).status,
    ).toBe(404);

    const spend = (await (await get('/v1/communities/riverside/spend', t.keys.riverside)).json()) as {
      points: { epsilon: number; delta: number }[];
    };
    expect(spend.points).toHaveLength(ledger.charges.length);
    const epsilons = spend.points.map((p) => p.epsilon);
    expect([...epsilons].sort((a, b) => a - b)).toEqual(epsilons);
    expect(epsilons.at(-1)).toBeCloseTo(ledger.community.spent.epsilon, 9);
    expect((await get('/v1/communities/nowhere/spend', t.keys.council)).status).toBe(404);
  });

  it('lets the council create, list, rotate and revoke keys while the gateway runs, each audited', async () => {
    expect((await get('/v1/keys', t.keys.analyst)).status).toBe(403);
    const refused = await post('/v1/keys', t.keys.council, { name: 'x', role: 'contributor' });
    expect(refused.status).toBe(400);

    const created = await post('/v1/keys', t.keys.council, {
      name: 'hillcrest reader',
      role: 'contributor',
      community: 'hillcrest',
    });
    expect(created.status).toBe(201);
    const { key, secret } = (await created.json()) as {
      key: { id: string; prefix: string; community: string; revoked_at: null };
      secret: string;
    };
    expect(secret.startsWith(key.prefix)).toBe(true);
    expect(key).toMatchObject({ community: 'hillcrest', revoked_at: null });
    expect((await get('/v1/me', secret)).status).toBe(200);

    const listed = (await (await get('/v1/keys', t.keys.council)).json()) as {
      keys: { id: string; name: string }[];
    };
    expect(listed.keys[0]).toMatchObject({ id: key.id, name: 'hillcrest reader' });
    expect(JSON.stringify(listed)).not.toContain(secret);

    const rotated = await post(`/v1/keys/${key.id}/rotate`, t.keys.council);
    expect(rotated.status).toBe(201);
    const next = (await rotated.json()) as {
      key: { id: string; name: string; community: string };
      secret: string;
    };
    expect(next.key).toMatchObject({ name: 'hillcrest reader', community: 'hillcrest' });
    expect((await get('/v1/me', secret)).status).toBe(401);
    expect((await get('/v1/me', next.secret)).status).toBe(200);
    expect((await post(`/v1/keys/${key.id}/rotate`, t.keys.council)).status).toBe(409);

    const revoked = await post(`/v1/keys/${next.key.id}/revoke`, t.keys.council);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revoked_at: string | null }).revoked_at).not.toBeNull();
    expect((await get('/v1/me', next.secret)).status).toBe(401);
    expect((await post(`/v1/keys/${next.key.id}/revoke`, t.keys.council)).status).toBe(409);
    expect((await post(`/v1/keys/${crypto.randomUUID()}/revoke`, t.keys.council)).status).toBe(404);

    const actions = await database()
      .db.selectFrom('dpgate.audit_log')
      .select('action')
      .where('action', 'in', ['key.rotated', 'key.revoked'])
      .orderBy('id')
      .execute();
    expect(actions.map((row) => row.action)).toEqual(['key.rotated', 'key.revoked']);
    const audit = (await (await get('/v1/audit/status', t.keys.council)).json()) as {
      ok: boolean;
      entries: number;
    };
    expect(audit.ok).toBe(true);
    expect(audit.entries).toBeGreaterThan(3);
  });

  it('shows the council every policy version, the one in force marked', async () => {
    const body = (await (await get('/v1/policies/versions', t.keys.council)).json()) as {
      versions: { version: string; in_force: boolean; files: string[] }[];
    };
    expect(body.versions[0]).toMatchObject({ version: t.policies.current.version, in_force: true });
    expect(body.versions[0]!.files).toContain('budgets.yaml');
    expect((await get('/v1/policies/versions', t.keys.analyst)).status).toBe(403);
  });

  it('names every operation and declares its errors', async () => {
    const spec = (await (await t.app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
    };
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ name: `${method} ${path}`, ...op })),
    );
    expect(operations.length).toBeGreaterThan(20);
    for (const op of operations) {
      expect(op.operationId, op.name).toMatch(/^[a-z][A-Za-z]+$/);
      if (op.name.includes('/v1/')) expect(Object.keys(op.responses), op.name).toContain('401');
    }
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves the dashboard at / with a strict content security policy', async () => {
    const page = await t.app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await t.app.request('/assets/..%2Fsecret.js')).status).toBe(404);
  });
});
