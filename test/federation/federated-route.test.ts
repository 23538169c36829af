import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncQueryRole } from '../../src/db/query-role.ts';
import { generateSigningPair } from '../../src/federation/crypto.ts';
import { createNodeService } from '../../src/federation/node-service.ts';
import { InProcessTransport } from '../../src/federation/transport.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { PolicyStore } from '../../src/policy/policy-store.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { createTestApp } from '../support/app.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { demoPolicyFiles } from '../support/demo-policy.ts';

const COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'];
const databases: TestDatabase[] = [];
let gatewayDb: TestDatabase;
let harness: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  const gateway = await generateSigningPair();
  const keys = await Promise.all(COMMUNITIES.map(() => generateSigningPair()));
  const nodes = COMMUNITIES.map(
    (c, i) => `    node_${c}: { community: ${c}, public_key: ${keys[i]!.publicKey} }`,
  );
  const file = {
    name: 'federation.yaml',
    text: `federation:\n  gateway: { public_key: ${gateway.publicKey} }\n  threshold: 2\n  tables: [people]\n  nodes:\n${nodes.join('\n')}\n`,
  };
  const validation = await validatePolicyFiles([...(await demoPolicyFiles()), file]);
  if (!validation.ok) throw new Error(JSON.stringify(validation.issues));
  const snapshot = validation.snapshot;
  const handlers = new Map();
  for (const [i, community] of COMMUNITIES.entries()) {
    const database = await openTestDatabase('pglite');
    databases.push(database);
    await sql`delete from commons.survey_responses where person_id in (select person_id from commons.people where community_id <> ${community})`.execute(
      database.db,
    );
    await sql`delete from commons.people where community_id <> ${community}`.execute(database.db);
    await database.db.transaction().execute((trx) => syncQueryRole(trx, snapshot.policy, 'node'));
    const service = createNodeService({
      nodeId: `node_${community}`,
      signingKey: keys[i]!.privateKey,
      policy: snapshot,
      db: database.db,
    });
    handlers.set(`node_${community}`, service.node);
  }
  gatewayDb = await openTestDatabase('pglite');
  const nodeKeys = Object.fromEntries(COMMUNITIES.map((c, i) => [`node_${c}`, keys[i]!.publicKey]));
  harness = await createTestApp(gatewayDb, () => ({
    policies: new PolicyStore(snapshot),
    federation: {
      aggregation: {
        transport: new InProcessTransport(handlers),
        identity: { id: 'gateway', signingKey: gateway.privateKey, nodeKeys },
      },
    },
  }));
  await applyPolicy(gatewayDb.db, snapshot);
}, 120_000);

afterAll(async () => {
  await Promise.all([...databases, gatewayDb].map((d) => d?.close()));
});

const post = (body: Record<string, unknown>, key = harness.keys.analyst) =>
  harness.app.request('/v1/federated-queries', {
    method: 'POST',
    headers: { ...harness.bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /v1/federated-queries', () => {
  it('answers a federated COUNT, charged to every community, for analysts', async () => {
    const response = await post({ sql: 'SELECT COUNT(*) AS n FROM people', epsilon: 0.5, delta: 1e-6 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { rows: number[][]; contributors: string[]; charged: unknown[] };
    expect(body.contributors).toHaveLength(3);
    expect(body.charged).toHaveLength(3);
    expect(Math.abs(body.rows[0]![0]! - 1000)).toBeLessThan(100);
  });

  it('refuses what federation does not support, without charging, and contributors entirely', async () => {
    const charges = () =>
      gatewayDb.db
        .selectFrom('dpgate.charges')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
    const before = await charges();
    const refused = await post({ sql: 'SELECT COUNT(*) FROM survey_responses' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/do not live on nodes/);
    expect((await post({ sql: 'SELECT COUNT(*) FROM people' }, harness.keys.riverside)).status).toBe(403);
    expect(await charges()).toEqual(before);
  });
});
