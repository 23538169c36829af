/** In-process federations for the secure-aggregation tests and the benchmark. */
import { generateSigningPair } from '../../src/federation/crypto.ts';
import { ModularVector } from '../../src/federation/modular-vector.ts';
import type { AggregationOptions, GatewayIdentity } from '../../src/federation/secagg-gateway.ts';
import { type NodeTasks, SecAggNode } from '../../src/federation/secagg-node.ts';
import { InProcessTransport, type MessageHandler } from '../../src/federation/transport.ts';

export interface TestFederation {
  readonly ids: string[];
  readonly nodes: Map<string, SecAggNode>;
  readonly identity: GatewayIdentity;
  readonly transport: InProcessTransport;
  readonly options: AggregationOptions;
}

/** n nodes whose input for every session is `inputs[id]`; `wrap` lets a test misbehave per node. */
export async function testFederation(options: {
  n: number;
  threshold: number;
  inputs: (id: string) => ModularVector;
  wrap?: (id: string, node: SecAggNode) => MessageHandler;
}): Promise<TestFederation> {
  const ids = Array.from({ length: options.n }, (_, i) => `node_${String(i).padStart(2, '0')}`);
  const gateway = await generateSigningPair();
  const keys = await Promise.all(ids.map(() => generateSigningPair()));
  const nodeKeys = Object.fromEntries(ids.map((id, i) => [id, keys[i]!.publicKey]));
  const directory = {
    gatewayId: 'gateway',
    gatewayKey: gateway.publicKey,
    nodeKeys,
    minimumThreshold: options.threshold,
  };
  const nodes = new Map<string, SecAggNode>();
  const handlers = new Map<string, MessageHandler>();
  ids.forEach((id, i) => {
    const tasks: NodeTasks = { accept: () => {}, input: async () => options.inputs(id).clone() };
    const node = new SecAggNode(id, keys[i]!.privateKey, directory, tasks);
    nodes.set(id, node);
    handlers.set(id, options.wrap ? options.wrap(id, node) : node);
  });
  const identity = { id: 'gateway', signingKey: gateway.privateKey, nodeKeys };
  const transport = new InProcessTransport(handlers);
  return { ids, nodes, identity, transport, options: { transport, identity, timeoutMs: 5_000 } };
}

export function vectorOf(bits: number, values: number[]): ModularVector {
  return ModularVector.fromIntegers(bits, values);
}
