/** `npm run policy:schema`: writes policies/schema.json from the zod schema. */
import { writeFileSync } from 'node:fs';
import { policyJsonSchema } from './json-schema.ts';

const target = new URL('../../policies/schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
