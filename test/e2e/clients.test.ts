/**
 * The TypeScript and Python clients against a real gateway (`dpgate serve` on embedded PGlite with
 * the demo): answers with their cost, and refusals as typed errors with code and position. The
 * Python tests run under Debian's python3 with only the standard library.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dpgate, DpgateError } from '../../clients/typescript/dpgate.ts';
import { type GatewayProcess, startGateway } from '../support/gateway-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'dpgate-clients-'));
let gateway: GatewayProcess;
let analyst: string;

beforeAll(async () => {
  gateway = await startGateway({ DATABASE_URL: undefined, DPGATE_DATA_DIR: dataDir, DPGATE_DEMO: '1' });
  analyst = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8')).analyst;
});
afterAll(async () => {
  await gateway?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('TypeScript client', () => {
  it('answers a query with its cost and charges', async () => {
    const client = new Dpgate({ url: gateway.url, key: analyst });
    const answer = await client.query('SELECT educ, COUNT(*) FROM people GROUP BY educ', { epsilon: 0.5 });
    expect(answer.columns).toEqual(['educ', 'count']);
    expect(answer.rows.length).toBeGreaterThan(0);
    expect(answer.charged.length).toBeGreaterThan(0);
    expect((await client.me()).role).toBe('analyst');
  });

  it('surfaces refusals as DpgateError with the code and position', async () => {
    const client = new Dpgate({ url: gateway.url, key: analyst });
    const refused = await client.query('SELECT COUNT(*) FROM people WHERE', { epsilon: 0.5 }).catch((e) => e);
    expect(refused).toBeInstanceOf(DpgateError);
    expect(refused).toMatchObject({ code: 'syntax_error', status: 422 });
    expect(typeof refused.position).toBe('number');
    const tooCostly = await client.query('SELECT COUNT(*) FROM people', { epsilon: 1000 }).catch((e) => e);
    expect(tooCostly).toBeInstanceOf(DpgateError);
    expect(tooCostly.status).toBe(422);
    const unreachable = await new Dpgate({ url: 'http://127.0.0.1:1', key: analyst }).me().catch((e) => e);
    expect(unreachable).toMatchObject({ code: 'unreachable', status: 0 });
  });
});

describe('Python client', () => {
  it('passes its unittest suite under python3 against the gateway', () => {
    const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-v', '-s', 'clients/python/tests'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        DPGATE_URL: gateway.url,
        DPGATE_ANALYST_KEY: analyst,
        PYTHONDONTWRITEBYTECODE: '1',
      },
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Ran \d+ tests/);
    expect(run.stderr).not.toContain('skipped');
  });
});
