/**
 * Writes clients/typescript/openapi.d.ts from the gateway's own OpenAPI document, so the client's
 * types are the API's. `npm run client:types`; a test fails when the file is out of date.
 */
import { writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';
import { openDatabase } from '../../src/db/connect.ts';
import { createApp } from '../../src/http/app.ts';
import { PolicyStore } from '../../src/policy/policy-store.ts';
import type { PolicySnapshot } from '../../src/policy/validate.ts';

const HEADER = "// Generated from the gateway's OpenAPI document by `npm run client:types`. Do not edit.\n";

export async function clientTypes(): Promise<string> {
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    const silent = { info() {}, warn() {}, error() {}, child: () => silent };
    // The document describes routes only; no policy is consulted to build it.
    const app = createApp({
      db: database.db,
      queries: database.queries,
      databaseKind: 'pglite',
      policies: new PolicyStore({} as PolicySnapshot),
      logger: silent,
    });
    const document = (await (await app.request('/openapi.json')).json()) as Parameters<typeof openapiTS>[0];
    return HEADER + astToString(await openapiTS(document));
  } finally {
    await database.close();
  }
}

export const TYPES_FILE = new URL('./openapi.d.ts', import.meta.url);

if (import.meta.url === `file://${process.argv[1]}`) writeFileSync(TYPES_FILE, await clientTypes());
