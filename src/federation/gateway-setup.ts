/**
 * The gateway's side of a federation, from its policy and its private signing key: the key must be
 * the one the policy names, and every node needs a `url`. Built once at start; a policy change to
 * the federation section takes effect on restart.
 */
import { readFile } from 'node:fs/promises';
import type { PolicySnapshot } from '../policy/validate.ts';
import { importSigningKey } from './crypto.ts';
import type { AggregationOptions } from './secagg-gateway.ts';
import { HttpTransport } from './transport.ts';

export async function federationFromKeyFile(
  keyFile: string,
  snapshot: PolicySnapshot,
): Promise<{ aggregation: AggregationOptions }> {
  const federation = snapshot.policy.federation;
  if (!federation) throw new Error('a federation key is set but the policy has no federation section');
  const signing = await importSigningKey(JSON.parse(await readFile(keyFile, 'utf8')));
  if (signing.publicKey !== federation.gateway.public_key) {
    throw new Error('the federation key does not match federation.gateway.public_key in the policy');
  }
  const nodes = Object.entries(federation.nodes);
  const missing = nodes.filter(([, node]) => !node.url).map(([id]) => id);
  if (missing.length > 0) throw new Error(`federation nodes without a url: ${missing.join(', ')}`);
  return {
    aggregation: {
      transport: new HttpTransport(Object.fromEntries(nodes.map(([id, node]) => [id, node.url!]))),
      identity: {
        id: federation.gateway.id,
        signingKey: signing.privateKey,
        nodeKeys: Object.fromEntries(nodes.map(([id, node]) => [id, node.public_key])),
      },
      timeoutMs: federation.node_timeout_ms,
    },
  };
}
