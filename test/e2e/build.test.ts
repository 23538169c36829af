/**
 * The production build: `npm run build` compiles to dist/, and the `dpgate` command then runs the
 * compiled JavaScript (no tsx), loads the SQL parser's WASM from it and serves a private query.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runDpgate, startGateway } from '../support/gateway-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'dpgate-build-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the compiled build', () => {
  it('builds, starts from dist/ and passes /health and a private query', async () => {
    const build = spawnSync('npm', ['run', 'build', '--silent'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    expect(existsSync(join(ROOT, 'dist/cli.js'))).toBe(true);
    expect(existsSync(join(ROOT, 'dist/demo/commons.sql'))).toBe(true);

    const version = runDpgate(['--version'], { DPGATE_FROM_SOURCE: '0' });
    expect(await version.exited).toBe(0);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(version.output().trim()).toBe(manifest.version);

    const gateway = await startGateway({
      DPGATE_FROM_SOURCE: '0',
      DATABASE_URL: undefined,
      DPGATE_DATA_DIR: dataDir,
      DPGATE_DEMO: '1',
    });
    try {
      const health = await fetch(`${gateway.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', database: 'ok' });
      const { analyst } = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8'));
      const answer = await fetch(`${gateway.url}/v1/queries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${analyst}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'SELECT COUNT(*) FROM people', epsilon: 0.5 }),
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ columns: ['count'] });
    } finally {
      expect(await gateway.stop('SIGTERM')).toBe(0);
    }
  });
});
