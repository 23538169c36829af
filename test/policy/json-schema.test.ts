import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { policyJsonSchema } from '../../src/policy/json-schema.ts';

it('policies/schema.json is the one generated from the zod schema (run `npm run policy:schema`)', () => {
  const committed = JSON.parse(readFileSync(new URL('../../policies/schema.json', import.meta.url), 'utf8'));
  expect(committed).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
});
