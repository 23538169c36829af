/**
 * Administration while an embedded gateway runs: the CLI refuses to open the data directory the
 * gateway holds and says how to go through the API instead; with a council key it verifies the
 * audit log and checks a policy set through the gateway. `dpgate keys` is checked against the keys
 * API's contract (a stand-in server that records what the CLI sends).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_POLICY_DIR } from '../support/demo-policy.ts';
import { type GatewayProcess, runDpgate, startGateway } from '../support/gateway-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'dpgate-admin-'));
const embedded = { DATABASE_URL: undefined, DPGATE_DATA_DIR: dataDir };

async function dpgate(args: string[], env: Record<string, string | undefined> = {}) {
  const run = runDpgate(args, { ...embedded, DPGATE_KEY: undefined, DPGATE_URL: undefined, ...env });
  return { code: await run.exited, output: run.output() };
}

describe('a running embedded gateway', () => {
  let gateway: GatewayProcess;
  let council: string;
  beforeAll(async () => {
    gateway = await startGateway({ ...embedded, DPGATE_DEMO: '1' });
    council = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8')).council;
  });
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is not opened behind its back; the CLI says how to go through the API', async () => {
    const verify = await dpgate(['audit', 'verify']);
    expect(verify.code).toBe(1);
    expect(verify.output).toContain('is in use by process');
    expect(verify.output).toContain('--key <council key>');
    const migrate = await dpgate(['migrate']);
    expect(migrate.code).toBe(1);
    expect(migrate.output).toContain('applied every migration it knows when it started');
  });

  it('verifies the audit log and checks a policy set through the API', async () => {
    const verify = await dpgate(['audit', 'verify', '--url', gateway.url, '--key', council]);
    expect(verify.output).toMatch(/audit log ok: \d+ entries, head [0-9a-f]{64}/);
    expect(verify.code).toBe(0);
    const check = await dpgate(['policy', 'check', DEMO_POLICY_DIR, '--url', gateway.url], {
      DPGATE_KEY: council,
    });
    expect(check.output).toMatch(/policy ok \(version [0-9a-f]{12}\)/);
    expect(check.code).toBe(0);
  });

  it('refuses a non-council key with the problem code', async () => {
    const analyst = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8')).analyst;
    const verify = await dpgate(['audit', 'verify', '--url', gateway.url, '--key', analyst]);
    expect(verify.code).toBe(1);
    expect(verify.output).toContain('forbidden:');
  });
});

describe('dpgate keys against the keys API contract', () => {
  const view = (id: string, revoked: string | null = null) => ({
    id,
    name: 'ana',
    role: 'analyst',
    community: null,
    prefix: 'dpg_ab12',
    created_at: '2026-01-02T03:04:05.000Z',
    revoked_at: revoked,
  });
  const seen: string[] = [];
  const app = new Hono()
    .use(async (c, next) => {
      seen.push(`${c.req.method} ${c.req.path} ${c.req.header('authorization')}`);
      await next();
    })
    .get('/v1/keys', (c) => c.json({ keys: [view('k1'), view('k2', '2026-01-03T00:00:00.000Z')] }))
    .post('/v1/keys', async (c) => {
      seen.push(JSON.stringify(await c.req.json()));
      return c.json({ key: view('k3'), secret: 'dpg_newsecret' }, 201);
    })
    .post('/v1/keys/:id/revoke', (c) => c.json(view(c.req.param('id'), '2026-01-04T00:00:00.000Z')))
    .post('/v1/keys/:id/rotate', (c) => c.json({ key: view('k4'), secret: 'dpg_rotated' }, 201));
  let url = '';
  let server: ReturnType<typeof serve>;
  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const keys = (...args: string[]) => dpgate(['keys', ...args, '--url', url, '--key', 'dpg_council']);

  it('lists, creates, revokes and rotates through the API', async () => {
    const list = await keys('list');
    expect(list.code).toBe(0);
    expect(list.output).toMatch(/k1\s+ana\s+analyst\s+dpg_ab12…\s+2026-01-02 03:04:05\n/);
    expect(list.output).toMatch(/k2 .*2026-01-03 00:00:00/);

    const create = await keys('create', '--role', 'analyst', '--name', 'ana');
    expect(create.code).toBe(0);
    expect(create.output).toContain('dpg_newsecret');
    expect(seen).toContain(JSON.stringify({ name: 'ana', role: 'analyst' }));

    const revoke = await keys('revoke', 'k1');
    expect(revoke.output).toContain('revoked analyst key "ana" (dpg_ab12…) at 2026-01-04');
    const rotate = await keys('rotate', 'k1');
    expect(rotate.output).toContain('dpg_rotated');
    expect(seen).toContain('POST /v1/keys/k1/rotate Bearer dpg_council');
  });
});
