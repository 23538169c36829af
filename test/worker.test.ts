/**
 * The Workers entry in the real Workers runtime: `wrangler dev` runs the bundle in workerd (from
 * npm), with PostgreSQL reached through a Hyperdrive binding pointed at the local server. The Worker
 * answers a private query end to end and the charge is in the ledger; training jobs are refused.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { applyPolicy } from '../src/ledger/apply-policy.ts';
import { createApiKey } from '../src/principals/api-keys.ts';
import { openTestDatabase, TEST_DATABASE_KINDS } from './support/databases.ts';
import { demoPolicySnapshot } from './support/demo-policy.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dpgate-worker-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' };

describe('Workers entry', () => {
  it('bundles with wrangler, offline, with the parser WASM as a module', () => {
    const outdir = join(scratch, 'bundle');
    const result = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT,
      encoding: 'utf8',
      env: WRANGLER_ENV,
      timeout: 120_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('--dry-run: exiting now.');
    expect(spawnSync('ls', [outdir], { encoding: 'utf8' }).stdout).toMatch(/libpg-query\.wasm/);
  });

  it.runIf(TEST_DATABASE_KINDS.includes('postgres'))(
    'answers a private query in workerd over Hyperdrive, charged in the ledger',
    async () => {
      const database = await openTestDatabase('postgres');
      let worker: ChildProcess | undefined;
      try {
        const snapshot = await demoPolicySnapshot();
        await applyPolicy(database.db, snapshot);
        const { key } = await createApiKey(database.db, { role: 'analyst', name: 'worker test' });
        const config = join(scratch, 'wrangler.toml');
        writeFileSync(config, testConfig(database.url!));
        const port = await freePort();
        // Its own process group, so the whole tree (npx, wrangler, workerd) is stopped afterwards.
        worker = spawn(
          'npx',
          [
            'wrangler',
            'dev',
            '--config',
            config,
            '--ip',
            '127.0.0.1',
            '--port',
            String(port),
            '--inspector-port',
            String(await freePort()),
            '--persist-to',
            join(scratch, 'state'),
            '--show-interactive-dev-session=false',
            '--log-level',
            'warn',
          ],
          { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        worker.stdout?.on('data', (chunk) => (output += chunk));
        worker.stderr?.on('data', (chunk) => (output += chunk));
        const url = `http://127.0.0.1:${port}`;
        await waitForHealth(url, worker, () => output);

        const healthText = await (await fetch(`${url}/health`)).text();
        expect(healthText, output).toMatch(/^\{/);
        const health = JSON.parse(healthText);
        expect(health).toMatchObject({
          status: 'ok',
          database_kind: 'postgres',
          policy_version: snapshot.version,
        });

        const response = await fetch(`${url}/v1/queries`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sql: 'SELECT educ, COUNT(*) FROM people GROUP BY educ', epsilon: 0.5 }),
        });
        const answer = (await response.json()) as {
          id: string;
          columns: string[];
          rows: unknown[][];
          charged: { community: string }[];
        };
        expect(response.status, JSON.stringify(answer)).toBe(200);
        expect(answer.columns).toEqual(['educ', 'count']);
        expect(answer.rows.length).toBeGreaterThan(0);
        const charges = await database.db
          .selectFrom('dpgate.charges')
          .select(['community_id', 'kind', 'epsilon'])
          .execute();
        expect(charges.map((c) => c.community_id).sort()).toEqual(
          answer.charged.map((c) => c.community).sort(),
        );
        expect(charges.every((c) => c.kind === 'query')).toBe(true);

        const syntax = await fetch(`${url}/v1/queries`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ sql: 'SELECT COUNT(*) FROM people WHERE', epsilon: 0.5 }),
        });
        expect(syntax.status).toBe(422);
        expect(await syntax.json()).toMatchObject({ code: 'syntax_error' });

        const training = await fetch(`${url}/v1/training-jobs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({}),
        });
        expect(training.status).toBe(501);
        expect(await training.json()).toMatchObject({ code: 'training_unavailable' });
      } finally {
        if (worker?.pid) await stopGroup(worker);
        await database.close();
      }
    },
    180_000,
  );
});

/**
 * The repository's wrangler.toml with a Hyperdrive binding to the test database. Hyperdrive wants a
 * password in the URL; the local server trusts local connections, so any will do.
 */
function testConfig(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.password ||= 'local';
  const base = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  return [
    base.replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, 'src/worker.ts'))}`),
    '[[hyperdrive]]',
    'binding = "HYPERDRIVE"',
    'id = "local-test"',
    `localConnectionString = ${JSON.stringify(url.toString())}`,
    '',
  ].join('\n');
}

async function waitForHealth(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 120_000,
): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output()}`);
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the Worker was not healthy within ${timeoutMs} ms:\n${output()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

async function stopGroup(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }, 5_000);
  await exited;
  clearTimeout(timer);
}
