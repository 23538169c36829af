/**
 * `GET /v1/federation`: the federation section of the policy for every signed-in role, with key
 * fingerprints and, when the gateway holds the federation key, each node's reachability (one node
 * serving its health route over HTTP, one on a closed port, one with no url).
 */
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningPair, keyFingerprint } from '../../src/federation/crypto.ts';
import { createNodeService } from '../../src/federation/node-service.ts';
import { InProcessTransport } from '../../src/federation/transport.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { PolicyStore } from '../../src/policy/policy-store.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { createTestApp } from '../support/app.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { demoPolicyFiles } from '../support/demo-policy.ts';
import { freePort } from '../support/free-port.ts';

interface FederationBody {
  policy_version: string;
  federation: {
    threshold: number;
    guaranteed_nodes: number;
    tables: string[];
    gateway: { fingerprint: string };
    nodes: {
      id: string;
      community: string;
      public_key: string;
      fingerprint: string;
      url: string | null;
      reachability: { reachable: boolean; same_policy: boolean; policy_version: string | null } | null;
    }[];
  } | null;
}

const databases: TestDatabase[] = [];
let nodeServer: ServerType;
let withKey: Awaited<ReturnType<typeof createTestApp>>;
let withoutKey: Awaited<ReturnType<typeof createTestApp>>;
let plain: Awaited<ReturnType<typeof createTestApp>>;
const keys = new Map<string, Awaited<ReturnType<typeof generateSigningPair>>>();

beforeAll(async () => {
  const gateway = await generateSigningPair();
  for (const id of ['node_hillcrest', 'node_lakeside', 'node_riverside'])
    keys.set(id, await generateSigningPair());
  // The riverside node's port is picked first, so its url can be in the policy it then serves.
  const port = await freePort();
  const lakesidePort = await freePort();
  const file = {
    name: 'federation.yaml',
    text: `federation:
  gateway: { public_key: ${gateway.publicKey} }
  threshold: 2
  tables: [people]
  nodes:
    node_hillcrest: { community: hillcrest, public_key: ${keys.get('node_hillcrest')!.publicKey} }
    node_lakeside: { community: lakeside, public_key: ${keys.get('node_lakeside')!.publicKey}, url: "http://127.0.0.1:${lakesidePort}" }
    node_riverside: { community: riverside, public_key: ${keys.get('node_riverside')!.publicKey}, url: "http://127.0.0.1:${port}" }
`,
  };
  const validation = await validatePolicyFiles([...(await demoPolicyFiles()), file]);
  if (!validation.ok) throw new Error(JSON.stringify(validation.issues));
  const snapshot = validation.snapshot;
  const nodeDb = await openTestDatabase('pglite', { demo: false });
  databases.push(nodeDb);
  const service = createNodeService({
    nodeId: 'node_riverside',
    signingKey: keys.get('node_riverside')!.privateKey,
    policy: snapshot,
    db: nodeDb.db,
  });
  nodeServer = serve({ fetch: service.app.fetch, hostname: '127.0.0.1', port });
  await new Promise((resolve) => nodeServer.once('listening', resolve));

  const open = async (federated: boolean) => {
    const database = await openTestDatabase('pglite');
    databases.push(database);
    const harness = await createTestApp(database, () => ({
      policies: new PolicyStore(snapshot),
      ...(federated
        ? {
            federation: {
              aggregation: {
                transport: new InProcessTransport(new Map()),
                identity: { id: 'gateway', signingKey: gateway.privateKey, nodeKeys: {} },
              },
            },
          }
        : {}),
    }));
    await applyPolicy(database.db, snapshot);
    return harness;
  };
  withKey = await open(true);
  withoutKey = await open(false);
  const plainDb = await openTestDatabase('pglite');
  databases.push(plainDb);
  plain = await createTestApp(plainDb);
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => nodeServer?.close(resolve));
  await Promise.all(databases.map((d) => d.close()));
});

const read = async (harness: typeof withKey, key: string) => {
  const response = await harness.app.request('/v1/federation', { headers: harness.bearer(key) });
  expect(response.status).toBe(200);
  return (await response.json()) as FederationBody;
};

describe('GET /v1/federation', () => {
  it('shows a contributor the nodes, communities, threshold, node tables and key fingerprints', async () => {
    const { federation } = await read(withoutKey, withoutKey.keys.riverside);
    expect(federation).toMatchObject({ threshold: 2, guaranteed_nodes: 2, tables: ['people'] });
    expect(federation!.nodes.map((n) => [n.id, n.community])).toEqual([
      ['node_hillcrest', 'hillcrest'],
      ['node_lakeside', 'lakeside'],
      ['node_riverside', 'riverside'],
    ]);
    for (const node of federation!.nodes) {
      expect(node.fingerprint).toBe(await keyFingerprint(keys.get(node.id)!.publicKey));
      expect(node.fingerprint).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
      // This gateway holds no federation key: it never contacts the nodes.
      expect(node.reachability).toBeNull();
    }
    expect(new Set(federation!.nodes.map((n) => n.fingerprint)).size).toBe(3);
    // Where the nodes run is for the council.
    expect(federation!.nodes.map((n) => n.url)).toEqual([null, null, null]);
  });

  it('with the federation key, reports which nodes answer as themselves under the same policy', async () => {
    const { federation, policy_version } = await read(withKey, withKey.keys.council);
    const byId = Object.fromEntries(federation!.nodes.map((n) => [n.id, n.reachability]));
    expect(byId.node_riverside).toMatchObject({ reachable: true, same_policy: true });
    expect(byId.node_riverside!.policy_version).toBe(policy_version);
    expect(byId.node_lakeside).toMatchObject({ reachable: false, same_policy: false, policy_version: null });
    expect(byId.node_hillcrest).toBeNull();
    expect(federation!.nodes.map((n) => n.url?.startsWith('http://127.0.0.1:') ?? null)).toEqual([
      null,
      true,
      true,
    ]);
  });

  it('is null for a commons without a federation', async () => {
    expect((await read(plain, plain.keys.analyst)).federation).toBeNull();
  });
});
