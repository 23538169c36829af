/**
 * The secure-aggregation wire format. Every message is an envelope signed with Ed25519 by its sender
 * over (session id, round, sender, recipient, body); a message is accepted only by the party it is
 * addressed to, in the session and round it names, so a message replayed into another session or
 * round fails its check.
 */
import { z } from 'zod';
import { canonicalJson } from '../util/canonical-json.ts';
import { utf8 } from './bytes.ts';
import { type CryptoKey, sha256, sign, verify } from './crypto.ts';

export const PROTOCOL = 'dpgate-secagg/1';

export const ROUNDS = ['advertise', 'share-keys', 'masked-input', 'consistency', 'unmask'] as const;
export type Round = (typeof ROUNDS)[number];

const nodeId = z.string().regex(/^[a-z_][a-z0-9_-]{0,62}$/);
const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/);

/** What the gateway asks for, fixed before round 0; its hash is the session id. */
export const sessionSpecSchema = z.strictObject({
  protocol: z.literal(PROTOCOL),
  /** Sorted, distinct; a node's Shamir evaluation point is its position + 1. */
  nodes: z.array(nodeId).min(2),
  threshold: z.number().int().min(2),
  bits: z.number().int().min(8).max(64),
  length: z.number().int().min(1).max(10_000_000),
  /** What each node computes (a federated query or training step); the node validates it. */
  task: z.record(z.string(), z.unknown()),
  /** Fresh per session, so two sessions over the same task have different ids. */
  nonce: base64url.min(16),
});
export type SessionSpec = z.infer<typeof sessionSpecSchema>;

export async function sessionIdOf(spec: SessionSpec): Promise<string> {
  return Buffer.from(await sha256(utf8(canonicalJson(spec)))).toString('hex');
}

export const envelopeSchema = z.strictObject({
  sessionId: z.string().regex(/^[0-9a-f]{64}$/),
  round: z.enum(ROUNDS),
  from: z.string(),
  to: z.string(),
  body: z.record(z.string(), z.unknown()),
  signature: base64url,
});
export type Envelope = z.infer<typeof envelopeSchema>;
export type UnsignedEnvelope = Omit<Envelope, 'signature'>;

export function signedBytes(envelope: UnsignedEnvelope): Uint8Array {
  const { sessionId, round, from, to, body } = envelope;
  return utf8(canonicalJson({ protocol: PROTOCOL, sessionId, round, from, to, body }));
}

export async function signEnvelope(envelope: UnsignedEnvelope, key: CryptoKey): Promise<Envelope> {
  return { ...envelope, signature: await sign(key, signedBytes(envelope)) };
}

export async function envelopeVerifies(envelope: Envelope, publicKey: string): Promise<boolean> {
  return verify(publicKey, envelope.signature, signedBytes(envelope));
}

// Round bodies. Requests go gateway → node, responses node → gateway.

export const advertiseRequest = z.strictObject({ spec: sessionSpecSchema });
export const advertiseResponse = z.strictObject({ cipherPublic: base64url, maskPublic: base64url });

/** A node's round-0 answer as the gateway forwards it: the node's own signed envelope. */
export const shareKeysRequest = z.strictObject({ advertisements: z.array(envelopeSchema) });
export const shareKeysResponse = z.strictObject({ ciphertexts: z.record(nodeId, base64url) });

export const maskedInputRequest = z.strictObject({
  survivors: z.array(nodeId),
  ciphertexts: z.record(nodeId, base64url),
});
export const maskedInputResponse = z.strictObject({ masked: base64url });

export const consistencyRequest = z.strictObject({ survivors: z.array(nodeId) });
export const consistencyResponse = z.strictObject({ survivorsSignature: base64url });

export const unmaskRequest = z.strictObject({
  survivors: z.array(nodeId),
  signatures: z.record(nodeId, base64url),
});
/** For each node, the share this node holds of its self-mask seed (survivor) or mask key (dropped). */
export const unmaskResponse = z.strictObject({
  selfMaskShares: z.record(nodeId, base64url),
  maskKeyShares: z.record(nodeId, base64url),
});

/** What a node signs in the consistency round: the one survivor set it will ever unmask for. */
export function survivorsStatement(sessionId: string, survivors: readonly string[]): Uint8Array {
  return utf8(canonicalJson({ protocol: PROTOCOL, sessionId, statement: 'survivors', survivors }));
}

/** Context strings for HKDF and AEAD: the session and the ordered pair they belong to. */
export function pairLabel(use: string, a: string, b: string): string {
  return `${PROTOCOL} ${use} ${a}|${b}`;
}

/** +1 when `self` adds the pair's mask, −1 when it subtracts it (the smaller id adds). */
export function pairSign(self: string, other: string): 1 | -1 {
  return self < other ? 1 : -1;
}

/** A node or gateway refused a message or a session. The message never quotes private values. */
export class SecAggRefusal extends Error {
  override name = 'SecAggRefusal';
}
