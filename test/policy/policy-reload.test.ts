import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { directoryPolicyReloader } from '../../src/gateway.ts';
import type { PolicyEffect } from '../../src/policy/effect.ts';
import type { PolicyFile } from '../../src/policy/policy-files.ts';
import { createTestApp } from '../support/app.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { demoPolicyFiles, editFile } from '../support/demo-policy.ts';
import { charge as chargeNow, pureCharge } from '../support/ledger.ts';

const RIVERSIDE = 'riverside: { epsilon: 10, delta: 1.0e-5 }';
/** Riverside's budget once the tests below have raised it. */
const RIVERSIDE_NOW = 'riverside: { epsilon: 12, delta: 1.0e-5 }';

interface IssueBody {
  file?: string;
  line?: number;
  column?: number;
  path: string;
  message: string;
}
interface Refusal {
  at: string;
  issues: string[];
}
interface Health {
  policy_version: string;
  policy_refused: Refusal | null;
}
interface PolicyState {
  version: string;
  last_refusal: Refusal | null;
  versions: { version: string; applied_at: string }[];
}
interface Validation {
  valid: boolean;
  version?: string;
  issues: IssueBody[];
  effect: PolicyEffect | null;
}

const json = <T>(response: Response) => response.json() as Promise<T>;

describeEachDatabase('policy reload and validation', (database) => {
  const policyDir = mkdtempSync(join(tmpdir(), 'dpgate-policy-reload-'));
  afterAll(() => rmSync(policyDir, { recursive: true, force: true }));

  let demo: PolicyFile[];
  let t: Awaited<ReturnType<typeof createTestApp>>;
  beforeAll(async () => {
    demo = await demoPolicyFiles();
    writeFiles(demo);
    t = await createTestApp(database(), ({ policies, logger }) => ({
      policyReloader: directoryPolicyReloader({ db: database().db, policyDir, policies, logger }),
    }));
  });

  function writeFiles(files: readonly PolicyFile[]): void {
    for (const file of files) writeFileSync(join(policyDir, file.name), file.text);
  }
  const writeEdited = (name: string, edit: (text: string) => string) =>
    writeFiles(editFile(demo, name, edit));

  const council = () => ({ ...t.bearer(t.keys.council), 'content-type': 'application/json' });
  const reload = () => t.app.request('/v1/policies/reload', { method: 'POST', headers: council() });
  const health = async () => json<Health>(await t.app.request('/health'));
  const policyState = async () =>
    json<PolicyState>(await t.app.request('/v1/policies', { headers: council() }));
  const budgetRow = (community: string) =>
    database()
      .db.selectFrom('dpgate.community_budgets')
      .select(['epsilon_total', 'policy_version'])
      .where('community_id', '=', community)
      .executeTakeFirstOrThrow();

  async function expectRefused(expected: { file: string; message: RegExp }) {
    const before = t.policies.current.version;
    const response = await reload();
    expect(response.status).toBe(422);
    const body = await json<{ code: string; version: string; issues: IssueBody[] }>(response);
    expect(body).toMatchObject({ code: 'invalid_policy', version: before });
    const issue = body.issues.find((i) => expected.message.test(i.message));
    expect(issue).toMatchObject({ file: expected.file, line: expect.any(Number) });

    expect(t.policies.current.version).toBe(before);
    expect((await health()).policy_version).toBe(before);
    const refusedInHealth = (await health()).policy_refused?.issues ?? [];
    expect(refusedInHealth.some((line) => line.startsWith(`${expected.file}:${issue?.line}:`))).toBe(true);
    const state = await policyState();
    expect(state.version).toBe(before);
    expect(state.last_refusal?.issues.some((line) => expected.message.test(line))).toBe(true);
    const logged = t.logs.filter(
      (line) => line.level === 'warn' && line.message?.includes('policy set refused'),
    );
    const loggedIssues = (logged.at(-1)?.fields.issues ?? []) as string[];
    expect(loggedIssues.some((line) => expected.message.test(line))).toBe(true);
  }

  async function expectApplied() {
    const before = t.policies.current.version;
    const response = await reload();
    expect(response.status).toBe(200);
    const body = await json<{ status: string; version: string; previous_version: string }>(response);
    expect(body).toMatchObject({ status: 'applied', previous_version: before });
    expect(body.version).not.toBe(before);
    expect(t.policies.current.version).toBe(body.version);
    expect(await health()).toMatchObject({ policy_version: body.version, policy_refused: null });
    return body.version;
  }

  it('keeps serving the old version when a file is not valid YAML, and says where', async () => {
    writeEdited('budgets.yaml', (text) => text.replace(RIVERSIDE, 'riverside: { epsilon: 10, delta: 1.0e-5'));
    await expectRefused({ file: 'budgets.yaml', message: /not valid YAML/ });
  });

  it('refuses a column that does not exist in the database', async () => {
    writeEdited('tables.yaml', (text) =>
      text.replace(
        '      age:          { type: int,  bounds: [0, 100] }',
        '      shoe_size:    { type: int,  bounds: [0, 50] }',
      ),
    );
    await expectRefused({
      file: 'tables.yaml',
      message: /column shoe_size does not exist in commons\.people/,
    });
  });

  it('applies the fixed set: the new version serves and is listed with its time; an unchanged set is a no-op', async () => {
    writeEdited('budgets.yaml', (text) => text.replace(RIVERSIDE, RIVERSIDE_NOW));
    const version = await expectApplied();
    expect(await budgetRow('riverside')).toEqual({ epsilon_total: '12', policy_version: version });
    const state = await policyState();
    expect(state.last_refusal).toBeNull();
    expect(state.versions[0]).toEqual({ version, applied_at: expect.any(String) });
    expect(state.versions).toHaveLength(2);

    const again = await reload();
    expect(await again.json()).toEqual({ status: 'unchanged', version });
  });

  it('refuses a budget below what the community has already spent', async () => {
    await charge('riverside', 1);
    writeEdited('budgets.yaml', (text) =>
      text.replace(RIVERSIDE, 'riverside: { epsilon: 0.5, delta: 1.0e-5 }'),
    );
    await expectRefused({
      file: 'budgets.yaml',
      message: /0\.5 is below the ε = [\d.]+ that riverside has already spent \(zcdp accounting\)/,
    });
    expect((await budgetRow('riverside')).epsilon_total).toBe('12');
  });

  it('refuses removing a community that has charges, and applies removing one that has none', async () => {
    const add = (extra: string) => (text: string) => text.replace(RIVERSIDE, `${RIVERSIDE_NOW}\n${extra}`);
    writeEdited(
      'budgets.yaml',
      add('  harbour: { epsilon: 10, delta: 1.0e-6 }\n  bay: { epsilon: 10, delta: 1.0e-6 }'),
    );
    await expectApplied();
    await charge('harbour', 0.2);
    writeEdited('budgets.yaml', add('  bay: { epsilon: 10, delta: 1.0e-6 }'));
    await expectRefused({
      file: 'budgets.yaml',
      message: /no budget for community "harbour", which has 1 charge/,
    });
    writeEdited('budgets.yaml', add('  harbour: { epsilon: 10, delta: 1.0e-6 }'));
    await expectApplied();
  });

  it('validates a candidate without applying it: issues located in their files, or the effect', async () => {
    const { version: before, files: current } = t.policies.current;
    const validate = async (files: PolicyFile[]) => {
      const response = await t.app.request('/v1/policies/validate', {
        method: 'POST',
        headers: council(),
        body: JSON.stringify({ files }),
      });
      expect(response.status).toBe(200);
      return json<Validation>(response);
    };

    const broken = await validate(
      editFile(current, 'tables.yaml', (text) => text.replace('bounds: [0, 100] }', 'bounds: [100, 0] }')),
    );
    expect(broken).toMatchObject({ valid: false, effect: null });
    expect(broken.issues[0]).toMatchObject({
      file: 'tables.yaml',
      line: expect.any(Number),
      column: expect.any(Number),
      path: expect.stringContaining('tables.people.columns.age.bounds'),
    });

    const overspent = await validate(
      editFile(current, 'budgets.yaml', (text) =>
        text.replace(RIVERSIDE_NOW, 'riverside: { epsilon: 0.5, delta: 1.0e-5 }'),
      ),
    );
    expect(overspent.valid).toBe(false);
    expect(overspent.issues[0]).toMatchObject({ file: 'budgets.yaml', path: 'budgets.riverside.epsilon' });

    const candidate = editFile(current, 'budgets.yaml', (text) =>
      text.replace(RIVERSIDE_NOW, 'riverside: { epsilon: 20, delta: 1.0e-5 }'),
    );
    const valid = await validate(
      editFile(candidate, 'tables.yaml', (text) =>
        text.replace(
          '      married:      { type: int,  public_values: [0, 1] }',
          '      married:      { type: int,  hidden: true }',
        ),
      ),
    );
    expect(valid).toMatchObject({ valid: true, issues: [] });
    expect(valid.effect?.budgets_changed).toEqual([
      { community: 'riverside', from: { epsilon: 12, delta: 1e-5 }, to: { epsilon: 20, delta: 1e-5 } },
    ]);
    expect(valid.effect?.columns_hidden).toEqual(['people.married']);

    expect(t.policies.current.version).toBe(before);
    expect((await budgetRow('riverside')).epsilon_total).toBe('12');
    const applied = await database().db.selectFrom('dpgate.policy_versions').select('version').execute();
    expect(applied.map((row) => row.version)).not.toContain(valid.version);
  });

  it('refuses a candidate with unusable file names', async () => {
    const response = await t.app.request('/v1/policies/validate', {
      method: 'POST',
      headers: council(),
      body: JSON.stringify({ files: [{ name: '../etc/passwd', text: '' }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'invalid_request' });
  });

  it('answers 403 to analysts and contributors on every governance endpoint', async () => {
    for (const key of [t.keys.analyst, t.keys.riverside]) {
      const headers = { ...t.bearer(key), 'content-type': 'application/json' };
      const requests = [
        t.app.request('/v1/policies', { headers }),
        t.app.request('/v1/policies/reload', { method: 'POST', headers }),
        t.app.request('/v1/policies/validate', {
          method: 'POST',
          headers,
          body: JSON.stringify({ files: demo }),
        }),
      ];
      for (const response of await Promise.all(requests)) {
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ code: 'forbidden' });
      }
    }
  });

  const charge = (community: string, epsilon: number) =>
    chargeNow(database().db, pureCharge([community], epsilon, { policyVersion: t.policies.current.version }));
});
