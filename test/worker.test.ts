/** The Workers entry: it bundles for Workers, and serves the same app over PostgreSQL. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPolicy } from '../src/ledger/apply-policy.ts';
import worker from '../src/worker.ts';
import { openTestDatabase, TEST_DATABASE_KINDS } from './support/databases.ts';
import { demoPolicySnapshot } from './support/demo-policy.ts';

describe('Workers entry', () => {
  it('bundles with wrangler, offline', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'dpgate-worker-'));
    try {
      const result = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
        encoding: 'utf8',
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
        timeout: 120_000,
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain('--dry-run: exiting now.');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it.runIf(TEST_DATABASE_KINDS.includes('postgres'))(
    'serves health from the policy in force in the database',
    async () => {
      const database = await openTestDatabase('postgres');
      try {
        const snapshot = await demoPolicySnapshot();
        await applyPolicy(database.db, snapshot);
        const response = await worker.fetch(
          new Request('http://worker/health'),
          { DATABASE_URL: database.url },
          {},
        );
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({
          status: 'ok',
          database_kind: 'postgres',
          policy_version: snapshot.version,
        });
      } finally {
        await database.close();
      }
    },
  );
});
