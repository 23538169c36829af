/** The reload logic on its own: reading, checking and applying are stand-ins. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyFile } from '../../src/policy/policy-files.ts';
import { PolicyStore } from '../../src/policy/policy-store.ts';
import { PolicyReloader, type PolicyReloaderOptions } from '../../src/policy/reloader.ts';
import { type PolicySnapshot, validatePolicyFiles } from '../../src/policy/validate.ts';
import { type LoggedLine, recordingLogger } from '../support/app.ts';
import { demoPolicyFiles, editFile } from '../support/demo-policy.ts';

describe('PolicyReloader', () => {
  let demo: PolicyFile[];
  let raised: PolicyFile[];
  let demoSnapshot: PolicySnapshot;
  beforeAll(async () => {
    demo = await demoPolicyFiles();
    raised = editFile(demo, 'budgets.yaml', (text) => text.replace('epsilon: 10,', 'epsilon: 11,'));
    const validation = await validatePolicyFiles(demo);
    if (!validation.ok) throw new Error('demo policy invalid');
    demoSnapshot = validation.snapshot;
  });

  function setup(overrides: Partial<PolicyReloaderOptions> & { files: () => readonly PolicyFile[] }) {
    const logs: LoggedLine[] = [];
    const policies = new PolicyStore(demoSnapshot);
    const applied: string[] = [];
    const reloader = new PolicyReloader({
      readFiles: async () => overrides.files(),
      check: validatePolicyFiles,
      apply: async (snapshot) => {
        applied.push(snapshot.version);
      },
      policies,
      logger: recordingLogger(logs),
      ...overrides,
    });
    return { reloader, policies, logs, applied };
  }

  it('applies a changed set, then reports the same set as unchanged without applying it again', async () => {
    const { reloader, policies, applied, logs } = setup({ files: () => raised });
    const outcome = await reloader.reload('signal');
    expect(outcome).toMatchObject({ status: 'applied', previousVersion: demoSnapshot.version });
    expect(policies.current.version).toBe(outcome.version);
    expect(logs.at(-1)).toMatchObject({ level: 'info', fields: { trigger: 'signal' } });
    expect(await reloader.reload('watch')).toEqual({ status: 'unchanged', version: outcome.version });
    expect(applied).toEqual([outcome.version]);
  });

  it('refuses when the database will not apply the set, and keeps the old policy', async () => {
    const { reloader, policies } = setup({
      files: () => raised,
      apply: async () => {
        throw Object.assign(new Error('violates check constraint'), {
          constraint: 'budget_epsilon_not_overspent',
        });
      },
    });
    const outcome = await reloader.reload('request');
    expect(outcome).toMatchObject({ status: 'refused', version: demoSnapshot.version });
    expect(policies.current).toBe(demoSnapshot);
    expect(policies.lastRefusal?.issues[0]?.message).toBe(
      'the database refused to apply it (constraint budget_epsilon_not_overspent)',
    );
  });

  it('refuses when the directory cannot be read', async () => {
    const { reloader, logs } = setup({
      files: () => {
        throw new Error('ENOENT: no such file or directory');
      },
    });
    expect(await reloader.reload('watch')).toMatchObject({ status: 'refused' });
    expect(logs.map((line) => line.level)).toEqual(['error', 'warn']);
    expect(logs[0]?.fields.err).toBeInstanceOf(Error);
    expect(logs[1]).toMatchObject({ fields: { trigger: 'watch' } });
  });

  it('clears a refusal once the files are back to the policy in force', async () => {
    let files = editFile(demo, 'budgets.yaml', (text) => text.replace('epsilon: 10,', 'epsilon: -1,'));
    const { reloader, policies } = setup({ files: () => files });
    expect(await reloader.reload('watch')).toMatchObject({ status: 'refused' });
    expect(policies.lastRefusal).toBeDefined();
    files = demo;
    expect(await reloader.reload('watch')).toMatchObject({ status: 'unchanged' });
    expect(policies.lastRefusal).toBeUndefined();
  });

  it('runs overlapping reloads one after another', async () => {
    let active = 0;
    let most = 0;
    const { reloader } = setup({
      files: () => raised,
      check: async (files) => {
        active++;
        most = Math.max(most, active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        return validatePolicyFiles(files);
      },
    });
    const outcomes = await Promise.all([
      reloader.reload('watch'),
      reloader.reload('signal'),
      reloader.reload('request'),
    ]);
    expect(most).toBe(1);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'unchanged', 'unchanged']);
  });
});
