/**
 * The demo policy passes; each broken variant is refused with a message that names the file, the
 * line, the path inside the policy and what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../src/policy/issues.ts';
import type { PolicyFile } from '../../src/policy/policy-files.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { demoPolicyFiles, editFile } from '../support/demo-policy.ts';

interface BrokenPolicy {
  readonly name: string;
  readonly break: (files: PolicyFile[]) => PolicyFile[];
  /** What the first issue must say, as formatted for people (file:line:column path: message). */
  readonly expected: RegExp;
}

const replaceIn = (file: string, from: string | RegExp, to: string) => (files: PolicyFile[]) =>
  editFile(files, file, (text) => text.replace(from, to));

const BROKEN: readonly BrokenPolicy[] = [
  {
    name: 'bad YAML',
    break: replaceIn(
      'budgets.yaml',
      'riverside: { epsilon: 10, delta: 1.0e-5 }',
      'riverside: { epsilon: 10, delta: [1.0e-5 }',
    ),
    expected: /^budgets\.yaml:\d+:\d+ \(top level\): not valid YAML/,
  },
  {
    name: 'the privacy unit table outside commons',
    break: replaceIn('tables.yaml', /^ {2}people:\n/m, '  people:\n    schema: registry\n'),
    expected:
      /^tables\.yaml:\d+:\d+ tables\.people\.schema: the privacy unit table must be in schema commons/,
  },
  {
    name: "a table in dpgate's own schema",
    break: replaceIn('tables.yaml', /^ {2}survey_responses:\n/m, '  survey_responses:\n    schema: dpgate\n'),
    expected: /^tables\.yaml:\d+:\d+ tables\.survey_responses\.schema: must not be a system schema/,
  },
  {
    name: 'unknown table in a unit path',
    break: replaceIn('tables.yaml', 'person_id -> people.person_id', 'person_id -> persons.person_id'),
    expected:
      /^tables\.yaml:\d+:\d+ tables\.survey_responses\.unit_path\.0: refers to table "persons", which is not declared/,
  },
  {
    name: 'unknown key (a typo)',
    break: replaceIn(
      'tables.yaml',
      'age:          { type: int,  bounds: [0, 100] }',
      'age:          { type: int,  bouds: [0, 100] }',
    ),
    expected: /^tables\.yaml:\d+:\d+ tables\.people\.columns\.age: unknown key "bouds"/,
  },
  {
    name: 'lower bound above upper',
    break: replaceIn(
      'tables.yaml',
      'age:          { type: int,  bounds: [0, 100] }',
      'age:          { type: int,  bounds: [100, 0] }',
    ),
    expected:
      /^tables\.yaml:11:\d+ tables\.people\.columns\.age\.bounds: lower bound 100 is above upper bound 0/,
  },
  {
    name: 'a range of days on an int column',
    break: replaceIn(
      'tables.yaml',
      'age:          { type: int,  bounds: [0, 100] }',
      'age:          { type: int,  public_domain: { from: "2019-01-01", to: "2024-12-31" } }',
    ),
    expected:
      /^tables\.yaml:11:\d+ tables\.people\.columns\.age\.public_domain: a range of days applies to date and timestamp columns only, not int/,
  },
  {
    name: 'a range of days naming a day that does not exist',
    break: replaceIn(
      'tables.yaml',
      'age:          { type: int,  bounds: [0, 100] }',
      'age:          { type: int,  bounds: [0, 100] }\n      visited_on: { type: date, public_domain: { from: "2023-02-29", to: "2024-12-31" } }',
    ),
    expected:
      /^tables\.yaml:12:\d+ tables\.people\.columns\.visited_on\.public_domain\.from: "2023-02-29" is not a calendar day/,
  },
  {
    name: 'a range of days that ends before it starts',
    break: replaceIn(
      'tables.yaml',
      'age:          { type: int,  bounds: [0, 100] }',
      'age:          { type: int,  bounds: [0, 100] }\n      visited_on: { type: date, public_domain: { from: "2024-01-01", to: "2019-01-01" } }',
    ),
    expected:
      /^tables\.yaml:12:\d+ tables\.people\.columns\.visited_on\.public_domain: from 2024-01-01 is after to 2019-01-01/,
  },
  {
    name: 'a distinct-value bound of 0',
    break: replaceIn(
      'tables.yaml',
      'race:         { type: int,  public_range: [1, 6] }',
      'race:         { type: int,  public_range: [1, 6], max_distinct_per_unit: 0 }',
    ),
    expected:
      /^tables\.yaml:\d+:\d+ tables\.people\.columns\.race\.max_distinct_per_unit: must be at least 1/,
  },
  {
    name: 'negative budget',
    break: replaceIn('budgets.yaml', 'lakeside:  { epsilon: 5,', 'lakeside:  { epsilon: -5,'),
    expected: /^budgets\.yaml:\d+:\d+ budgets\.lakeside\.epsilon: must be greater than 0/,
  },
  {
    name: 'NaN budget',
    break: replaceIn('budgets.yaml', 'lakeside:  { epsilon: 5,', 'lakeside:  { epsilon: .nan,'),
    expected: /^budgets\.yaml:\d+:\d+ budgets\.lakeside\.epsilon: must be a finite number, not NaN/,
  },
  {
    name: 'infinite budget',
    break: replaceIn('budgets.yaml', 'hillcrest: { epsilon: 10,', 'hillcrest: { epsilon: .inf,'),
    expected: /^budgets\.yaml:\d+:\d+ budgets\.hillcrest\.epsilon: must be a finite number, not Infinity/,
  },
  {
    name: 'delta of 1 or more',
    break: replaceIn(
      'budgets.yaml',
      'riverside: { epsilon: 10, delta: 1.0e-5 }',
      'riverside: { epsilon: 10, delta: 1 }',
    ),
    expected: /^budgets\.yaml:\d+:\d+ budgets\.riverside\.delta: must be less than 1/,
  },
  {
    name: 'missing community column',
    break: replaceIn('commons.yaml', /communities:\n {2}column: community_id\n/, 'communities:\n'),
    expected: /^commons\.yaml:\d+:\d+ communities\.column: is required/,
  },
  {
    name: 'duplicate community within a file',
    break: replaceIn(
      'budgets.yaml',
      '  lakeside:  { epsilon: 5,',
      '  hillcrest: { epsilon: 1, delta: 1.0e-6 }\n  lakeside:  { epsilon: 5,',
    ),
    expected: /^budgets\.yaml:\d+:\d+ \(top level\): not valid YAML: Map keys must be unique/,
  },
  {
    name: 'duplicate community across files',
    break: (files) => [
      ...files,
      { name: 'more-budgets.yaml', text: 'budgets:\n  riverside: { epsilon: 1, delta: 1.0e-6 }\n' },
    ],
    expected: /^more-budgets\.yaml:2:3 budgets\.riverside: is already defined in budgets\.yaml/,
  },
  {
    name: 'bounds on a text column',
    break: replaceIn(
      'tables.yaml',
      'name:         { type: text }',
      'name:         { type: text, bounds: [a, z] }',
    ),
    expected:
      /^tables\.yaml:\d+:\d+ tables\.communities\.columns\.name\.bounds: bounds apply to int, real, date and timestamp columns, not text/,
  },
  {
    name: 'unknown role',
    break: replaceIn('commons.yaml', '  council:\n', '  auditor:\n'),
    expected:
      /^commons\.yaml:\d+:\d+ access\.auditor: unknown role "auditor"; roles are analyst, contributor, council/,
  },
  {
    name: 'access to an unknown table',
    break: replaceIn(
      'commons.yaml',
      'tables: [people, survey_responses, communities]',
      'tables: [people, visits]',
    ),
    expected:
      /^commons\.yaml:\d+:\d+ access\.analyst\.tables\.1: refers to table "visits", which is not declared/,
  },
  {
    name: 'granularity on an int column',
    break: replaceIn(
      'tables.yaml',
      'age:          { type: int,  bounds: [0, 100] }',
      'age:          { type: int,  bounds: [0, 100], granularity: 5 }',
    ),
    expected: /tables\.people\.columns\.age\.granularity: applies to real columns only, not int/,
  },
  {
    name: 'public value of the wrong type',
    break: replaceIn(
      'tables.yaml',
      'sex:          { type: int,  public_values: [0, 1] }',
      'sex:          { type: int,  public_values: [0, male] }',
    ),
    expected: /tables\.people\.columns\.sex\.public_values\.1: "male" is not a int/,
  },
  {
    name: 'private table without a unit path',
    break: replaceIn('tables.yaml', '    unit_path: ["person_id -> people.person_id"]\n', ''),
    expected:
      /^tables\.yaml:\d+:\d+ tables\.survey_responses: is private and needs a unit_path to people\.person_id/,
  },
  {
    name: 'domain from a private table',
    break: replaceIn(
      'tables.yaml',
      'community_id: { type: text, public_domain: communities.community_id }',
      'community_id: { type: text, public_domain: survey_responses.age }',
    ),
    expected:
      /tables\.people\.columns\.community_id\.public_domain: refers to "survey_responses", which is private/,
  },
  {
    name: 'unknown accounting mode',
    break: replaceIn('commons.yaml', 'accounting: zcdp', 'accounting: advanced'),
    expected: /^commons\.yaml:\d+:\d+ accounting: Invalid option: expected one of "basic"\|"zcdp"/,
  },
  {
    name: 'setting defined in two files',
    break: (files) => [...files, { name: 'zz-extra.yaml', text: 'accounting: basic\n' }],
    expected: /^zz-extra\.yaml:1:\d+ accounting: is already set in commons\.yaml; set it in one file only/,
  },
  {
    name: 'default epsilon above the per-query cap',
    break: replaceIn('commons.yaml', 'default_epsilon: 0.1', 'default_epsilon: 2'),
    expected: /limits\.default_epsilon: is above max_epsilon_per_query \(1\)/,
  },
];

describe('policy validation', () => {
  it('accepts the demo policy', async () => {
    const result = await validatePolicyFiles(await demoPolicyFiles());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.snapshot.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('has a stable version that ignores formatting but not meaning', async () => {
    const files = await demoPolicyFiles();
    const reformatted = editFile(
      files,
      'budgets.yaml',
      (text) => `# a new comment\n${text.replace(/ {2}riverside/, '  riverside')}\n\n`,
    );
    const changed = editFile(files, 'budgets.yaml', (text) =>
      text.replace('lakeside:  { epsilon: 5,', 'lakeside:  { epsilon: 6,'),
    );
    const [a, b, c] = await Promise.all([files, reformatted, changed].map(validatePolicyFiles));
    if (!a?.ok || !b?.ok || !c?.ok) throw new Error('expected valid policies');
    expect(b.snapshot.version).toBe(a.snapshot.version);
    expect(c.snapshot.version).not.toBe(a.snapshot.version);
  });

  it('refuses an empty policy directory', async () => {
    const result = await validatePolicyFiles([]);
    expect(result.ok).toBe(false);
  });

  it.each(BROKEN)('refuses $name with a precise message', async ({ break: breakPolicy, expected }) => {
    const result = await validatePolicyFiles(breakPolicy(await demoPolicyFiles()));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.length).toBeGreaterThan(0);
    expect(result.issues.map(formatIssue)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('has at least 12 broken fixtures', () => {
    expect(BROKEN.length).toBeGreaterThanOrEqual(12);
  });
});
