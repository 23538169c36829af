/** The `dpgate` command as people run it: exit codes and messages. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.ts';
import { DataDirInUseError, lockDataDir } from '../src/db/data-dir-lock.ts';
import { authenticateKey } from '../src/principals/api-keys.ts';
import { DEMO_POLICY_DIR } from './support/demo-policy.ts';
import { runDpgate } from './support/gateway-process.ts';

const scratch = mkdtempSync(join(tmpdir(), 'dpgate-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function dpgate(args: string[], env: Record<string, string | undefined> = {}) {
  const run = runDpgate(args, { DATABASE_URL: undefined, DPGATE_DATA_DIR: 'memory://', ...env });
  const code = await run.exited;
  return { code, output: run.output() };
}

describe('dpgate policy check', () => {
  it('passes the demo policy against a database holding the demo commons', async () => {
    const result = await dpgate(['policy', 'check', DEMO_POLICY_DIR, '--demo']);
    expect(result.output).toMatch(/policy ok \(version [0-9a-f]{12}\)/);
    expect(result.code).toBe(0);
  });

  it('fails with the file, line, path and reason when a policy is broken', async () => {
    const broken = join(scratch, 'broken-policies');
    cpSync(DEMO_POLICY_DIR, broken, { recursive: true });
    const tables = join(broken, 'tables.yaml');
    writeFileSync(tables, readFileSync(tables, 'utf8').replace('bounds: [0, 100] }', 'bounds: [100, 0] }'));
    const result = await dpgate(['policy', 'check', broken, '--offline']);
    expect(result.code).toBe(1);
    expect(result.output).toContain(
      'tables.yaml:11:35 tables.people.columns.age.bounds: lower bound 100 is above upper bound 0',
    );
  });

  it('fails when the database lacks what the policy names', async () => {
    const result = await dpgate(['policy', 'check', DEMO_POLICY_DIR]);
    expect(result.code).toBe(1);
    expect(result.output).toContain('tables.people: table commons.people does not exist in the database');
  });
});

describe('dpgate keys create', () => {
  it('prints a new key once and stores only its hash', async () => {
    const dataDir = join(scratch, 'keys-data');
    const result = await dpgate(
      ['keys', 'create', '--role', 'contributor', '--community', 'riverside', '--name', 'Ana'],
      {
        DPGATE_DATA_DIR: dataDir,
      },
    );
    expect(result.code).toBe(0);
    const key = result.output.match(/^(dpg_\S+)$/m)?.[1];
    expect(key).toBeDefined();
    expect(result.output).toContain('it will not be shown again');
    const database = await openDatabase({ dataDir });
    try {
      expect(await authenticateKey(database.db, key!)).toMatchObject({
        role: 'contributor',
        communityId: 'riverside',
        name: 'Ana',
      });
    } finally {
      await database.close();
    }
  });

  it('refuses a contributor key without a community, an unknown community and an unknown role', async () => {
    const noCommunity = await dpgate(['keys', 'create', '--role', 'contributor', '--name', 'x']);
    expect(noCommunity.code).toBe(1);
    expect(noCommunity.output).toContain('a contributor key needs --community');
    const unknownCommunity = await dpgate([
      'keys',
      'create',
      '--role',
      'contributor',
      '--community',
      'atlantis',
      '--name',
      'x',
    ]);
    expect(unknownCommunity.code).toBe(1);
    expect(unknownCommunity.output).toContain('unknown community "atlantis"');
    const unknownRole = await dpgate(['keys', 'create', '--role', 'admin', '--name', 'x']);
    expect(unknownRole.code).toBe(1);
    expect(unknownRole.output).toContain('Allowed choices are analyst, contributor, council');
  });
});

describe('the PGlite data directory lock', () => {
  it('refuses a second opener while the first holds the directory, and frees it on close', async () => {
    const dataDir = join(scratch, 'locked');
    const first = await openDatabase({ dataDir });
    await expect(openDatabase({ dataDir })).rejects.toThrow(DataDirInUseError);
    const result = await dpgate(['migrate'], { DPGATE_DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.output).toContain(`is in use by process ${process.pid}`);
    await first.close();
    const unlock = lockDataDir(dataDir);
    unlock();
  });
});
