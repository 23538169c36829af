import { describe, expect, it } from 'vitest';
import { type Envelope, signEnvelope } from '../../src/federation/messages.ts';
import { ModularVector } from '../../src/federation/modular-vector.ts';
import { AggregationAborted, type HeldVector, secureAggregate } from '../../src/federation/secagg-gateway.ts';
import type { SecAggNode } from '../../src/federation/secagg-node.ts';
import type { MessageHandler } from '../../src/federation/transport.ts';
import { testFederation } from './support.ts';

const BITS = 32;
const LENGTH = 16;

function randomInputs(ids: readonly string[]): Map<string, ModularVector> {
  const inputs = new Map<string, ModularVector>();
  for (const id of ids) {
    const words = crypto.getRandomValues(new Uint32Array(LENGTH));
    inputs.set(
      id,
      ModularVector.fromIntegers(
        BITS,
        Array.from(words, (w) => (w % 2001) - 1000),
      ),
    );
  }
  return inputs;
}

function expectedSum(inputs: Map<string, ModularVector>, nodes: readonly string[]): number[] {
  const sum = new ModularVector(BITS, LENGTH);
  for (const node of nodes) sum.add(inputs.get(node)!);
  return sum.toSignedIntegers();
}

/** A node that stops answering from `round` on (a dropout mid-protocol). */
function dropsAt(round: Envelope['round'], node: SecAggNode): MessageHandler {
  return {
    handle: async (message) => {
      if ((message as Envelope).round === round) throw new Error('node went away');
      return node.handle(message);
    },
  };
}

async function federation(
  n: number,
  threshold: number,
  wrap?: Record<string, (node: SecAggNode) => MessageHandler>,
) {
  const ids = Array.from({ length: n }, (_, i) => `node_${String(i).padStart(2, '0')}`);
  const inputs = randomInputs(ids);
  const fed = await testFederation({
    n,
    threshold,
    inputs: (id) => inputs.get(id)!,
    wrap: wrap ? (id, node) => wrap[id]?.(node) ?? node : undefined,
  });
  const request = { nodes: fed.ids, threshold, bits: BITS, length: LENGTH, task: { kind: 'test' } };
  return { ...fed, inputs, request };
}

describe('secure aggregation, in process', () => {
  for (const n of [3, 10]) {
    it(`sums ${n} nodes' inputs exactly with nobody dropping out`, async () => {
      const { inputs, request, options, ids } = await federation(n, Math.floor((2 * n) / 3) + 1);
      const result = await secureAggregate(request, options);
      expect(result.contributors).toEqual(ids);
      expect(result.sum.toSignedIntegers()).toEqual(expectedSum(inputs, ids));
    });
  }

  for (const round of ['share-keys', 'masked-input', 'consistency'] as const) {
    it(`completes when a node drops out at ${round} and enough remain`, async () => {
      const { inputs, request, options, ids } = await federation(5, 3, {
        node_01: (node) => dropsAt(round, node),
      });
      const result = await secureAggregate(request, options);
      const contributed = round === 'consistency' ? ids : ids.filter((id) => id !== 'node_01');
      expect(result.contributors).toEqual(contributed);
      expect(result.sum.toSignedIntegers()).toEqual(expectedSum(inputs, contributed));
      expect(result.dropouts.map((d) => [d.node, d.round])).toEqual([['node_01', round]]);
    });
  }

  it('completes with n − t nodes dropping out after sending shares (their masks are removed)', async () => {
    const drop = (node: SecAggNode) => dropsAt('masked-input', node);
    const { inputs, request, options } = await federation(6, 4, { node_00: drop, node_05: drop });
    const result = await secureAggregate(request, options);
    expect(result.contributors).toEqual(['node_01', 'node_02', 'node_03', 'node_04']);
    expect(result.sum.toSignedIntegers()).toEqual(expectedSum(inputs, result.contributors));
  });

  it('aborts cleanly, unmasking nothing, when survivors fall below the threshold', async () => {
    const drop = (node: SecAggNode) => dropsAt('masked-input', node);
    const held: HeldVector[] = [];
    const { request, options } = await federation(5, 4, { node_00: drop, node_03: drop });
    const run = secureAggregate(request, { ...options, observe: (h) => held.push(h) });
    await expect(run).rejects.toBeInstanceOf(AggregationAborted);
    await expect(run).rejects.toMatchObject({ round: 'masked-input' });
    expect(held.filter((h) => h.kind !== 'masked_input')).toEqual([]);
  });

  it('aborts when too few nodes answer the unmasking round', async () => {
    const drop = (node: SecAggNode) => dropsAt('unmask', node);
    const { request, options } = await federation(4, 3, { node_00: drop, node_01: drop });
    await expect(secureAggregate(request, options)).rejects.toMatchObject({ round: 'unmask' });
  });

  it('never holds one node’s unmasked input: only masked inputs, their masked sum and the final sum', async () => {
    const held: HeldVector[] = [];
    const { inputs, request, options, ids } = await federation(4, 3, {
      node_02: (node) => dropsAt('masked-input', node),
    });
    await secureAggregate(request, { ...options, observe: (h) => held.push(h) });
    expect(held.map((h) => h.kind)).toEqual([
      'masked_input',
      'masked_input',
      'masked_input',
      'masked_sum',
      'sum',
    ]);
    for (const h of held) {
      for (const id of ids) expect(h.vector.equals(inputs.get(id)!)).toBe(false);
      if (h.kind !== 'masked_input') expect(h.nodes.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('a node sending a wrong-length vector is refused and left out; the rest still sum', async () => {
    const shorten = (node: SecAggNode): MessageHandler => ({
      handle: async (message) => {
        const response = await node.handle(message);
        if (response.round !== 'masked-input') return response;
        // The node's own signature stays valid: it signs a vector that is one coordinate short.
        return { ...response, body: { masked: String(response.body.masked).slice(0, -8) } };
      },
    });
    const { inputs, request, options } = await federation(4, 3, { node_03: shorten });
    const result = await secureAggregate(request, options);
    expect(result.dropouts[0]).toMatchObject({ node: 'node_03', round: 'masked-input' });
    expect(result.contributors).toEqual(['node_00', 'node_01', 'node_02']);
    expect(result.sum.toSignedIntegers()).toEqual(expectedSum(inputs, result.contributors));
  });

  it('garbage from a node in every round is refused; below the threshold the round aborts', async () => {
    const garbage = (): MessageHandler => ({
      handle: async () => ({ nonsense: true }) as unknown as Envelope,
    });
    const { request, options } = await federation(3, 3, { node_01: garbage });
    await expect(secureAggregate(request, options)).rejects.toMatchObject({ round: 'advertise' });
  });

  it('a late node whose masked input the gateway still holds stays hidden: no self-mask share of it is ever revealed', async () => {
    const { request, options, inputs } = await federation(4, 3);
    const inner = options.transport;
    const unmaskAnswers: Envelope[] = [];
    const result = await secureAggregate(request, {
      ...options,
      transport: {
        call: async (target, message, timeout) => {
          const response = (await inner.call(target, message, timeout)) as Envelope;
          if (message.round === 'unmask') unmaskAnswers.push(response);
          // node_02 answers masked-input, but "too late": the gateway keeps the vector and calls it dropped.
          if (message.round === 'masked-input' && target === 'node_02') throw new Error('timed out');
          return response;
        },
      },
    });
    expect(result.contributors).toEqual(['node_00', 'node_01', 'node_03']);
    expect(result.sum.toSignedIntegers()).toEqual(expectedSum(inputs, result.contributors));
    expect(unmaskAnswers).toHaveLength(3);
    for (const answer of unmaskAnswers) {
      const body = answer.body as {
        selfMaskShares: Record<string, string>;
        maskKeyShares: Record<string, string>;
      };
      expect(Object.keys(body.maskKeyShares)).toEqual(['node_02']);
      expect(body.selfMaskShares).not.toHaveProperty('node_02');
    }
  });
});

describe('authentication and replay', () => {
  it('a node refuses a request not signed by the gateway in policy', async () => {
    const { nodes, ids } = await federation(3, 2);
    const other = await testFederation({ n: 3, threshold: 2, inputs: () => new ModularVector(BITS, LENGTH) });
    const captured: Envelope[] = [];
    const spy = new Map(
      [...other.nodes].map(([id, node]) => [
        id,
        {
          handle: async (m: unknown) => {
            captured.push(m as Envelope);
            return node.handle(m);
          },
        },
      ]),
    );
    const { InProcessTransport } = await import('../../src/federation/transport.ts');
    await secureAggregate(
      { nodes: other.ids, threshold: 2, bits: BITS, length: LENGTH, task: { kind: 'test' } },
      { ...other.options, transport: new InProcessTransport(spy) },
    );
    // The same well-formed request, signed by another federation's gateway key, is refused here.
    const forFirst = captured.find((m) => m.to === ids[0] && m.round === 'advertise');
    await expect(nodes.get(ids[0]!)!.handle(forFirst)).rejects.toThrow(/gateway signature/);
  });

  it('refuses a replayed request in the same session and a replayed round-0 request', async () => {
    const captured: Envelope[] = [];
    const record = (node: SecAggNode): MessageHandler => ({
      handle: async (message) => {
        captured.push(message as Envelope);
        return node.handle(message);
      },
    });
    const { request, options, nodes } = await federation(3, 2, { node_00: record });
    await secureAggregate(request, options);
    const node = nodes.get('node_00')!;
    for (const message of captured)
      await expect(node.handle(message)).rejects.toThrow(/replayed|out of order/);
  });

  it('the gateway drops a node whose responses are signed with a key other than its policy key', async () => {
    const impostor = await testFederation({
      n: 3,
      threshold: 2,
      inputs: () => new ModularVector(BITS, LENGTH),
    });
    const { request, options, inputs } = await federation(3, 2, {
      // node_02 answers with a node that has a different signing key than the policy names.
      node_02: () => impostor.nodes.get('node_02')!,
    });
    const result = await secureAggregate(request, options);
    expect(result.dropouts).toEqual([expect.objectContaining({ node: 'node_02', round: 'advertise' })]);
    expect(result.sum.toSignedIntegers()).toEqual(expectedSum(inputs, ['node_00', 'node_01']));
  });

  it('a node refuses to unmask for a survivor set other than the one it signed, even from the gateway', async () => {
    const { request, options } = await federation(4, 2);
    const inner = options.transport;
    const refusals: string[] = [];
    const run = secureAggregate(request, {
      ...options,
      transport: {
        call: async (target, message, timeout) => {
          if (message.round !== 'unmask') return inner.call(target, message, timeout);
          // A curious gateway claims node_03 dropped, to get its mask key shares AND its self-mask
          // shares (it holds node_03's masked input): re-signed with the gateway's own key.
          const survivors = ['node_00', 'node_01', 'node_02'];
          const { signature: _, ...unsigned } = message;
          const forged = await signEnvelope(
            { ...unsigned, body: { ...message.body, survivors } },
            options.identity.signingKey,
          );
          try {
            return await inner.call(target, forged, timeout);
          } catch (error) {
            refusals.push((error as Error).message);
            throw error;
          }
        },
      },
    });
    await expect(run).rejects.toMatchObject({ round: 'unmask' });
    expect(refusals).toHaveLength(4);
    for (const message of refusals) expect(message).toMatch(/other than the one this node signed/);
  });
});
