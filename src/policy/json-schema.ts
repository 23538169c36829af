/** The JSON Schema that editors use to check policy files as they are typed, made from the zod schema. */
import { z } from 'zod';
import { policySchema } from './schema.ts';

export function policyJsonSchema(): Record<string, unknown> {
  // Each file holds part of the policy, so no top-level key is required in any one file; the merged
  // set is checked for completeness by `dpgate policy check`.
  const { required: _everyKeyOnce, ...schema } = z.toJSONSchema(policySchema, {
    io: 'input',
    unrepresentable: 'any',
  });
  return {
    ...schema,
    $id: 'https://dpgate.dev/schemas/policy.json',
    title: 'dpgate policy file',
    description:
      'One file of a dpgate policy set. Files in a policy directory are merged: budgets, tables and access entry by entry, other keys once.',
  };
}
