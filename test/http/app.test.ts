import { beforeAll, expect, it } from 'vitest';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';

describeEachDatabase('HTTP app', (database) => {
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    t = await createTestApp(database());
  });

  const expectProblem = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, type: `https://dpgate.dev/problems/${code}` });
    expect(typeof body.detail).toBe('string');
    expect(body.request_id).toBe(response.headers.get('x-request-id'));
    return body;
  };

  it('reports health without a key', async () => {
    const response = await t.app.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      database: 'ok',
      database_kind: database().kind,
      policy_version: t.policies.current.version,
      policy_refused: null,
    });
  });

  it('answers 401 problem+json for a missing, malformed or unknown key', async () => {
    const missing = await t.app.request('/v1/me');
    await expectProblem(missing, 401, 'unauthorized');
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="dpgate"');
    await expectProblem(
      await t.app.request('/v1/me', { headers: { authorization: 'Basic abc' } }),
      401,
      'unauthorized',
    );
    await expectProblem(
      await t.app.request('/v1/me', { headers: t.bearer('dpg_not-a-real-key') }),
      401,
      'unauthorized',
    );
    const almost = `${t.keys.analyst.slice(0, -1)}${t.keys.analyst.endsWith('A') ? 'B' : 'A'}`;
    await expectProblem(await t.app.request('/v1/me', { headers: t.bearer(almost) }), 401, 'unauthorized');
  });

  it('answers 403 problem+json for a known key with the wrong role', async () => {
    for (const key of [t.keys.analyst, t.keys.riverside]) {
      const body = await expectProblem(
        await t.app.request('/v1/policies', { headers: t.bearer(key) }),
        403,
        'forbidden',
      );
      expect(body.required_roles).toEqual(['council']);
    }
  });

  it('lets each key act as its principal', async () => {
    const me = await t.app.request('/v1/me', { headers: t.bearer(t.keys.riverside) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      role: 'contributor',
      community_id: 'riverside',
      name: 'test contributor',
    });
    const policies = await t.app.request('/v1/policies', { headers: t.bearer(t.keys.council) });
    expect(policies.status).toBe(200);
    expect(await policies.json()).toMatchObject({ version: t.policies.current.version, last_refusal: null });
  });

  it('uses a request id from the client or makes one, and logs it without the key', async () => {
    const response = await t.app.request('/v1/me', {
      headers: { ...t.bearer(t.keys.analyst), 'x-request-id': 'trace-123' },
    });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    const line = t.logs.find((entry) => entry.fields.request_id === 'trace-123');
    expect(line?.fields).toMatchObject({ method: 'GET', path: '/v1/me', status: 200 });
    expect(JSON.stringify(t.logs)).not.toContain(t.keys.analyst);
    expect((await t.app.request('/health')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('describes itself in OpenAPI and serves the docs viewer locally', async () => {
    const spec = (await (await t.app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health', '/v1/me', '/v1/policies']));
    const page = await (await t.app.request('/docs')).text();
    expect(page).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page).not.toMatch(/https?:\/\//);
    const asset = await t.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await t.app.request('/docs/assets/secret.txt')).status).toBe(404);
  });

  it('answers unknown routes with a not_found problem', async () => {
    await expectProblem(await t.app.request('/nowhere'), 404, 'not_found');
  });
});
