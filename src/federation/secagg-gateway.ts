/**
 * The gateway's side of secure aggregation (Bonawitz et al. 2017, Fig. 4, actively secure variant
 * with signed keys and the consistency round). The gateway relays and checks; it holds only
 * masked vectors until the end, when it removes the masks of the survivor set as a whole and obtains
 * their SUM. `observe` sees every vector the gateway ever holds, so tests can check that none of
 * them is one node's unmasked input.
 */
import { fromBase64Url, toBase64Url } from './bytes.ts';
import { agree, type CryptoKey, importAgreementSecret, randomBytes, verify } from './crypto.ts';
import { pairMask, selfMask } from './masks.ts';
import {
  advertiseResponse,
  consistencyResponse,
  type Envelope,
  envelopeSchema,
  envelopeVerifies,
  maskedInputResponse,
  PROTOCOL,
  pairSign,
  type Round,
  type SessionSpec,
  sessionIdOf,
  shareKeysResponse,
  signEnvelope,
  survivorsStatement,
  unmaskResponse,
} from './messages.ts';
import { ModularVector } from './modular-vector.ts';
import { pointOf } from './secagg-node.ts';
import { combineShares, decodeShareValue, type Share } from './shamir.ts';
import type { FederationTransport } from './transport.ts';

export interface AggregationRequest {
  readonly nodes: readonly string[];
  readonly threshold: number;
  readonly bits: number;
  readonly length: number;
  readonly task: Record<string, unknown>;
}

export interface GatewayIdentity {
  readonly id: string;
  readonly signingKey: CryptoKey;
  readonly nodeKeys: Readonly<Record<string, string>>;
}

export type HeldVector =
  | { readonly kind: 'masked_input'; readonly node: string; readonly vector: ModularVector }
  | {
      readonly kind: 'masked_sum' | 'sum';
      readonly nodes: readonly string[];
      readonly vector: ModularVector;
    };

export interface AggregationOptions {
  readonly transport: FederationTransport;
  readonly identity: GatewayIdentity;
  readonly timeoutMs?: number;
  readonly observe?: (held: HeldVector) => void;
}

export interface Dropout {
  readonly node: string;
  readonly round: Round;
  readonly reason: string;
}

export interface AggregationResult {
  readonly sessionId: string;
  readonly spec: SessionSpec;
  /** The sum of exactly these nodes' inputs (mod 2^bits). */
  readonly sum: ModularVector;
  readonly contributors: readonly string[];
  readonly dropouts: readonly Dropout[];
}

/** Fewer than the threshold of nodes answered a round: nothing can be (or was) unmasked. */
export class AggregationAborted extends Error {
  override name = 'AggregationAborted';
  constructor(
    readonly round: Round,
    readonly dropouts: readonly Dropout[],
  ) {
    super(`secure aggregation aborted in round ${round}: fewer nodes than the threshold remained`);
  }
}

export async function secureAggregate(
  request: AggregationRequest,
  options: AggregationOptions,
): Promise<AggregationResult> {
  const spec: SessionSpec = {
    protocol: PROTOCOL,
    nodes: [...new Set(request.nodes)].sort(),
    threshold: request.threshold,
    bits: request.bits,
    length: request.length,
    task: request.task,
    nonce: toBase64Url(randomBytes(16)),
  };
  const sessionId = await sessionIdOf(spec);
  const shape = { bits: spec.bits, length: spec.length };
  const dropouts: Dropout[] = [];
  const { identity, transport, timeoutMs = 30_000, observe } = options;

  async function round<T>(
    name: Round,
    nodes: readonly string[],
    schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
    bodyFor: (node: string) => Record<string, unknown>,
    check: (node: string, body: T) => Promise<void> | void = () => {},
  ): Promise<Map<string, { body: T; envelope: Envelope }>> {
    const answers = new Map<string, { body: T; envelope: Envelope }>();
    await Promise.all(
      nodes.map(async (node) => {
        try {
          const outgoing = await signEnvelope(
            { sessionId, round: name, from: identity.id, to: node, body: bodyFor(node) },
            identity.signingKey,
          );
          const envelope = envelopeSchema.parse(await transport.call(node, outgoing, timeoutMs));
          const key = identity.nodeKeys[node];
          const authentic =
            key !== undefined &&
            envelope.sessionId === sessionId &&
            envelope.round === name &&
            envelope.from === node &&
            envelope.to === identity.id &&
            (await envelopeVerifies(envelope, key));
          if (!authentic) throw new Error('response not signed by the node for this round');
          const parsed = schema.safeParse(envelope.body);
          if (!parsed.success) throw new Error('malformed response');
          await check(node, parsed.data);
          answers.set(node, { body: parsed.data, envelope });
        } catch (error) {
          dropouts.push({ node, round: name, reason: describe(error) });
        }
      }),
    );
    if (answers.size < spec.threshold) throw new AggregationAborted(name, dropouts);
    return answers;
  }
  const sorted = (answers: Map<string, unknown>) => [...answers.keys()].sort();

  const advertised = await round('advertise', spec.nodes, advertiseResponse, () => ({ spec }));
  const u1 = sorted(advertised);
  const advertisements = u1.map((node) => advertised.get(node)!.envelope);

  const shared = await round(
    'share-keys',
    u1,
    shareKeysResponse,
    () => ({ advertisements }),
    (node, body) => {
      const expected = u1.filter((v) => v !== node);
      if (Object.keys(body.ciphertexts).sort().join() !== expected.join())
        throw new Error('shares for the wrong nodes');
    },
  );
  const u2 = sorted(shared);

  const maskedInputs = new Map<string, ModularVector>();
  const masked = await round(
    'masked-input',
    u2,
    maskedInputResponse,
    (node) => ({
      survivors: u2,
      ciphertexts: Object.fromEntries(
        u2.filter((v) => v !== node).map((v) => [v, shared.get(v)!.body.ciphertexts[node]!]),
      ),
    }),
    (node, body) => {
      const vector = ModularVector.fromBytes(spec.bits, spec.length, fromBase64Url(body.masked));
      maskedInputs.set(node, vector);
      observe?.({ kind: 'masked_input', node, vector });
    },
  );
  const u3 = sorted(masked);

  const statement = survivorsStatement(sessionId, u3);
  const consistent = await round(
    'consistency',
    u3,
    consistencyResponse,
    () => ({ survivors: u3 }),
    async (node, body) => {
      if (!(await verify(identity.nodeKeys[node]!, body.survivorsSignature, statement))) {
        throw new Error('survivor-set signature does not verify');
      }
    },
  );
  const u4 = sorted(consistent);
  const signatures = Object.fromEntries(
    u4.map((node) => [node, consistent.get(node)!.body.survivorsSignature]),
  );

  const unmasked = await round('unmask', u4, unmaskResponse, () => ({ survivors: u3, signatures }));

  const dropped = u2.filter((node) => !u3.includes(node));
  const sharesOf = (node: string, field: 'selfMaskShares' | 'maskKeyShares'): Share[] =>
    [...unmasked.entries()].flatMap(([holder, { body }]) => {
      const value = body[field][node];
      return value === undefined
        ? []
        : [{ x: pointOf(spec, holder), y: decodeShareValue(fromBase64Url(value)) }];
    });
  const reconstruct = (node: string, field: 'selfMaskShares' | 'maskKeyShares'): Uint8Array => {
    const shares = sharesOf(node, field);
    if (shares.length < spec.threshold) throw new AggregationAborted('unmask', dropouts);
    return combineShares(shares, spec.threshold, 32);
  };

  const total = new ModularVector(spec.bits, spec.length);
  for (const node of u3) total.add(maskedInputs.get(node)!);
  observe?.({ kind: 'masked_sum', nodes: u3, vector: total.clone() });
  for (const node of u3)
    total.subtract(await selfMask(reconstruct(node, 'selfMaskShares'), sessionId, node, shape));
  const maskPublic = (node: string) => fromBase64Url(advertised.get(node)!.body.maskPublic);
  for (const gone of dropped) {
    const secret = await importAgreementSecret(reconstruct(gone, 'maskKeyShares'), maskPublic(gone));
    for (const node of u3) {
      // Survivor `node` added pairSign(node, gone)·PRG(s_{node,gone}) for a partner that never sent.
      const mask = await pairMask(await agree(secret, maskPublic(node)), sessionId, node, gone, shape);
      if (pairSign(node, gone) === 1) total.subtract(mask);
      else total.add(mask);
    }
  }
  observe?.({ kind: 'sum', nodes: u3, vector: total });
  return { sessionId, spec, sum: total, contributors: u3, dropouts };
}

/** A dropout's reason for logs: our own messages only, never a peer's text beyond its class. */
function describe(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 200);
  return 'unknown failure';
}
