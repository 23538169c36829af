/**
 * Policy reload in a running `dpgate serve`: the directory watcher (with an editor's write-and-rename
 * save), SIGHUP, and `dpgate policy reload`. A broken set never takes effect and the refusal shows in
 * /health, GET /v1/policies and the logs; the fixed set then takes effect.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestDatabase, TEST_DATABASE_KINDS, type TestDatabase } from '../support/databases.ts';
import { DEMO_POLICY_DIR } from '../support/demo-policy.ts';
import { type GatewayProcess, runDpgate, startGateway } from '../support/gateway-process.ts';

interface Health {
  policy_version: string;
  policy_refused: { issues: string[] } | null;
}

const RIVERSIDE = 'riverside: { epsilon: 10, delta: 1.0e-5 }';

/** Saves as many editors do: write a temporary file, then rename it over the old one. */
function saveLikeAnEditor(path: string, text: string): void {
  writeFileSync(`${path}.swp`, text);
  renameSync(`${path}.swp`, path);
}

/** Saves the demo's file `name`, edited, into `dir`. */
function saveEditedDemo(dir: string, name: string, edit: (text: string) => string): void {
  const demo = readFileSync(join(DEMO_POLICY_DIR, name), 'utf8');
  const edited = edit(demo);
  if (edited === demo) throw new Error(`edit of ${name} changed nothing`);
  saveLikeAnEditor(join(dir, name), edited);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe.each(TEST_DATABASE_KINDS)('policy reload in a running gateway [%s]', (kind) => {
  const scratch = mkdtempSync(join(tmpdir(), 'dpgate-e2e-reload-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  async function start(name: string, extraEnv: Record<string, string> = {}) {
    const policyDir = join(scratch, `${name}-policies`);
    cpSync(DEMO_POLICY_DIR, policyDir, { recursive: true });
    const dataDir = join(scratch, `${name}-data`);
    const database: TestDatabase | undefined =
      kind === 'postgres' ? await openTestDatabase('postgres') : undefined;
    const gateway = await startGateway({
      DATABASE_URL: database?.url,
      DPGATE_DATA_DIR: dataDir,
      DPGATE_DEMO: '1',
      DPGATE_POLICY_DIR: policyDir,
      ...extraEnv,
    });
    const keys = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8')) as { council: string };
    const health = async () => (await fetch(`${gateway.url}/health`)).json() as Promise<Health>;
    const stop = async () => {
      expect(await gateway.stop()).toBe(0);
      await database?.close();
    };
    return {
      gateway,
      policyDir,
      council: keys.council,
      health,
      stop,
      initial: (await health()).policy_version,
    };
  }

  const policiesOf = async (gateway: GatewayProcess, council: string) =>
    (
      await fetch(`${gateway.url}/v1/policies`, { headers: { authorization: `Bearer ${council}` } })
    ).json() as Promise<{
      version: string;
      last_refusal: { issues: string[] } | null;
    }>;

  it('watches the directory: a broken save is refused and the old version serves; the fixed save applies', async () => {
    const { gateway, policyDir, council, health, stop, initial } = await start('watch');
    try {
      saveEditedDemo(policyDir, 'budgets.yaml', (text) =>
        text.replace(RIVERSIDE, 'riverside: { epsilon: 10, delta: 1.0e-5'),
      );
      const refused = await waitFor(async () => {
        const state = await health();
        return state.policy_refused ? state : undefined;
      }, 'the refusal in /health');
      expect(refused.policy_version).toBe(initial);
      expect(refused.policy_refused?.issues.some((line) => line.startsWith('budgets.yaml:'))).toBe(true);
      const policies = await policiesOf(gateway, council);
      expect(policies.version).toBe(initial);
      expect(policies.last_refusal?.issues.join('\n')).toContain('not valid YAML');
      await waitFor(
        async () =>
          gateway.output().includes('policy set refused; the last good policy keeps serving')
            ? true
            : undefined,
        'the refusal in the log',
      );

      saveEditedDemo(policyDir, 'budgets.yaml', (text) =>
        text.replace(RIVERSIDE, 'riverside: { epsilon: 11, delta: 1.0e-5 }'),
      );
      const applied = await waitFor(async () => {
        const state = await health();
        return state.policy_version !== initial ? state : undefined;
      }, 'the fixed set to take effect');
      expect(applied.policy_refused).toBeNull();
      await waitFor(
        async () => (/"trigger":"watch".*"msg":"policy reloaded"/.test(gateway.output()) ? true : undefined),
        'the reload in the log',
      );
    } finally {
      await stop();
    }
  });

  it('reloads on SIGHUP and through `dpgate policy reload`, and only then when the watcher is off', async () => {
    const { gateway, policyDir, council, health, stop, initial } = await start('signal', {
      DPGATE_POLICY_WATCH: '0',
    });
    try {
      saveEditedDemo(policyDir, 'budgets.yaml', (text) =>
        text.replace(RIVERSIDE, 'riverside: { epsilon: 11, delta: 1.0e-5 }'),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await health()).policy_version).toBe(initial);

      gateway.child.kill('SIGHUP');
      const afterSignal = await waitFor(async () => {
        const state = await health();
        return state.policy_version !== initial ? state.policy_version : undefined;
      }, 'SIGHUP to apply the set');
      await waitFor(
        async () => (/"trigger":"signal".*"msg":"policy reloaded"/.test(gateway.output()) ? true : undefined),
        'the reload in the log',
      );

      saveEditedDemo(policyDir, 'tables.yaml', (text) =>
        text.replace(
          '      age:          { type: int,  bounds: [0, 100] }',
          '      shoe_size:    { type: int,  bounds: [0, 50] }',
        ),
      );
      const refusedRun = runDpgate(['policy', 'reload', '--url', gateway.url], { DPGATE_KEY: council });
      expect(await refusedRun.exited).toBe(1);
      expect(refusedRun.output()).toContain(`version ${afterSignal} keeps serving`);
      expect(refusedRun.output()).toMatch(
        /tables\.yaml:\d+:\d+ tables\.people\.columns\.shoe_size: column shoe_size does not exist/,
      );
      expect((await health()).policy_version).toBe(afterSignal);
      expect((await policiesOf(gateway, council)).last_refusal?.issues.join('\n')).toContain('shoe_size');

      saveEditedDemo(policyDir, 'tables.yaml', (text) =>
        text.replace(
          '      age:          { type: int,  bounds: [0, 100] }',
          '      age:          { type: int,  bounds: [0, 90] }',
        ),
      );
      const appliedRun = runDpgate(['policy', 'reload', '--url', gateway.url, '--key', council], {});
      expect(await appliedRun.exited).toBe(0);
      expect(appliedRun.output()).toContain(`policy applied: version`);
      expect(appliedRun.output()).toContain(`(was ${afterSignal.slice(0, 12)})`);
      expect(await health()).toMatchObject({ policy_refused: null });
      expect((await health()).policy_version).not.toBe(afterSignal);
    } finally {
      await stop();
    }
  });
});
