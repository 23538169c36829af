import { describe, expect, it } from 'vitest';
import { generateSigningPair } from '../../src/federation/crypto.ts';
import type { PolicyFile } from '../../src/policy/policy-files.ts';
import { validatePolicyFiles } from '../../src/policy/validate.ts';
import { demoPolicyFiles } from '../support/demo-policy.ts';

const keys = await Promise.all([0, 1, 2, 3].map(() => generateSigningPair()));
const [gateway, a, b, c] = keys.map((k) => k.publicKey);

function federationFile(overrides: Record<string, string> = {}): PolicyFile {
  const fields = {
    gateway: `{ public_key: ${gateway} }`,
    threshold: '2',
    max_colluding_nodes: '0',
    tables: '[people, survey_responses]',
    nodes: `\n    node_a: { community: riverside, public_key: ${a}, url: "http://127.0.0.1:7401" }\n    node_b: { community: hillcrest, public_key: ${b} }\n    node_c: { community: lakeside, public_key: ${c} }`,
    ...overrides,
  };
  const text = `federation:\n${Object.entries(fields)
    .map(([key, value]) => `  ${key}: ${value}`)
    .join('\n')}\n`;
  return { name: 'federation.yaml', text };
}

async function issuesWith(file: PolicyFile): Promise<string[]> {
  const result = await validatePolicyFiles([...(await demoPolicyFiles()), file]);
  return result.ok ? [] : result.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('policy federation section', () => {
  it('accepts a well-formed federation and fills defaults', async () => {
    const result = await validatePolicyFiles([...(await demoPolicyFiles()), federationFile()]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.snapshot.policy.federation).toMatchObject({
      gateway: { id: 'gateway' },
      threshold: 2,
      node_timeout_ms: 30_000,
    });
  });

  it('refuses a threshold above the node count, colluders at the threshold, and unknown tables', async () => {
    expect(await issuesWith(federationFile({ threshold: '4' }))).toEqual([
      'federation.threshold: is 4, above the number of nodes (3)',
    ]);
    expect(await issuesWith(federationFile({ max_colluding_nodes: '2' }))).toEqual([
      expect.stringMatching(/^federation.max_colluding_nodes: must be below the threshold/),
    ]);
    expect(await issuesWith(federationFile({ tables: '[people, nowhere, communities]' }))).toEqual([
      'federation.tables.1: refers to table "nowhere", which is not declared under tables',
      'federation.tables.2: "communities" is public; only private tables live on nodes',
    ]);
  });

  it('refuses unknown communities, two nodes for one community, reused keys and malformed keys', async () => {
    const nodes = `\n    node_a: { community: riverside, public_key: ${a} }\n    node_b: { community: riverside, public_key: ${a} }\n    node_c: { community: atlantis, public_key: ${c} }`;
    expect(await issuesWith(federationFile({ nodes }))).toEqual([
      'federation.nodes.node_b.community: community "riverside" is already held by node "node_a"; one node per community',
      'federation.nodes.node_c.community: names community "atlantis", which has no budget',
      'federation: every node and the gateway need their own public key',
    ]);
    const bad = `\n    node_a: { community: riverside, public_key: not-a-key }\n    node_b: { community: hillcrest, public_key: ${b} }`;
    expect(await issuesWith(federationFile({ nodes: bad }))).toEqual([
      'federation.nodes.node_a.public_key: must be a 32-byte Ed25519 public key in base64url',
    ]);
  });
});
