/** The TypeScript client's types are generated from the gateway's current OpenAPI document. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { clientTypes, TYPES_FILE } from '../clients/typescript/generate-types.ts';

it('clients/typescript/openapi.d.ts matches the OpenAPI document', async () => {
  expect(readFileSync(TYPES_FILE, 'utf8'), 'run `npm run client:types`').toBe(await clientTypes());
});
