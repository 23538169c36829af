import { beforeAll, describe, expect, it } from 'vitest';
import { policyEffect } from '../../src/policy/effect.ts';
import type { PolicyFile } from '../../src/policy/policy-files.ts';
import type { Policy } from '../../src/policy/schema.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { demoPolicyFiles, editFile } from '../support/demo-policy.ts';

async function policyOf(files: PolicyFile[]): Promise<Policy> {
  const validation = await validatePolicyFiles(files);
  if (!validation.ok) throw new Error(`test policy is invalid: ${JSON.stringify(validation.issues)}`);
  return validation.snapshot.policy;
}

describe('policyEffect', () => {
  let files: PolicyFile[];
  let demo: Policy;
  beforeAll(async () => {
    files = await demoPolicyFiles();
    demo = await policyOf(files);
  });
  const edited = (name: string, edit: (text: string) => string) => policyOf(editFile(files, name, edit));

  it('reports nothing for the same policy', () => {
    expect(policyEffect(demo, demo)).toEqual({
      budgets_changed: [],
      communities_added: [],
      communities_removed: [],
      columns_exposed: [],
      columns_hidden: [],
      bounds_changed: [],
      tables_added: [],
      tables_removed: [],
      tables_made_public: [],
      tables_made_private: [],
      accounting_changed: null,
      limits_changed: [],
    });
  });

  it('reports budgets raised or lowered, and communities added or removed', async () => {
    const candidate = await edited('budgets.yaml', (text) =>
      text
        .replace('riverside: { epsilon: 10, delta: 1.0e-5 }', 'riverside: { epsilon: 12, delta: 1.0e-5 }')
        .replace('lakeside:  { epsilon: 5,  delta: 1.0e-5 }', 'harbour: { epsilon: 3, delta: 1.0e-6 }'),
    );
    const effect = policyEffect(demo, candidate);
    expect(effect.budgets_changed).toEqual([
      { community: 'riverside', from: { epsilon: 10, delta: 1e-5 }, to: { epsilon: 12, delta: 1e-5 } },
    ]);
    expect(effect.communities_added).toEqual(['harbour']);
    expect(effect.communities_removed).toEqual(['lakeside']);
  });

  it('reports columns exposed and hidden, bounds changed, and a table removed with its columns', async () => {
    const candidate = await edited('tables.yaml', (text) =>
      text
        .replace(
          'age:          { type: int,  bounds: [0, 100] }',
          'age:          { type: int,  bounds: [0, 120] }',
        )
        .replace(
          'married:      { type: int,  public_values: [0, 1] }',
          'married:      { type: int,  hidden: true }',
        )
        .replace(
          'educ:    { type: int,  public_range: [1, 16] }',
          'educ:    { type: int,  public_range: [1, 16] }\n      person_id: { type: int, bounds: [0, 10000] }',
        ),
    );
    // The effect is computed on any two policies; dropping a table needs no valid file to show it.
    const { communities: _dropped, ...tables } = candidate.tables;
    const effect = policyEffect(demo, { ...candidate, tables });
    expect(effect.columns_exposed).toEqual(['survey_responses.person_id']);
    expect(effect.columns_hidden).toEqual([
      'communities.community_id',
      'communities.name',
      'communities.region',
      'people.married',
    ]);
    expect(effect.bounds_changed).toEqual([{ column: 'people.age', from: [0, 100], to: [0, 120] }]);
    expect(effect.tables_removed).toEqual(['communities']);
    expect(effect.tables_added).toEqual([]);
  });

  it('reports a private table made public, and accounting and limits changed', async () => {
    const candidate = await edited('commons.yaml', (text) =>
      text
        .replace('accounting: zcdp', 'accounting: basic')
        .replace('max_epsilon_per_query: 1', 'max_epsilon_per_query: 2'),
    );
    const madePublic: Policy = {
      ...candidate,
      tables: {
        ...candidate.tables,
        survey_responses: { ...candidate.tables.survey_responses!, public: true },
      },
    };
    const effect = policyEffect(demo, madePublic);
    expect(effect.tables_made_public).toEqual(['survey_responses']);
    expect(policyEffect(madePublic, demo).tables_made_private).toEqual(['survey_responses']);
    expect(effect.accounting_changed).toEqual({ from: 'zcdp', to: 'basic' });
    expect(effect.limits_changed).toEqual([{ limit: 'max_epsilon_per_query', from: 1, to: 2 }]);
  });
});
