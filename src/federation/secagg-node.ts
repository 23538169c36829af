/**
 * A node's side of secure aggregation (Bonawitz et al. 2017, Fig. 4, with the signed consistency
 * round of the actively secure variant). The node enforces the rules that keep its input hidden
 * itself, rather than trusting the gateway:
 *  - every request must carry the gateway's signature, for this session, in the next round; a
 *    replayed or out-of-order request is refused;
 *  - a peer's keys are accepted only with that peer's own signature over them;
 *  - the survivor set it signs in the consistency round is the only one it will ever unmask for, and
 *    for each peer it reveals EITHER the self-mask share (survivor) OR the mask-key share (dropped),
 *    never both: so a node the gateway calls dropped but whose masked input arrived stays hidden.
 */
import { canonicalJson } from '../util/canonical-json.ts';
import { bytesEqual, fromBase64Url, toBase64Url, utf8 } from './bytes.ts';
import {
  agree,
  type CryptoKey,
  exportAgreementSecret,
  generateKeyAgreementPair,
  type KeyAgreementPair,
  open,
  randomBytes,
  seal,
  sign,
  verify,
} from './crypto.ts';
import { pairMask, selfMask, shareKey } from './masks.ts';
import {
  advertiseRequest,
  advertiseResponse,
  consistencyRequest,
  type Envelope,
  envelopeSchema,
  envelopeVerifies,
  maskedInputRequest,
  pairSign,
  type Round,
  SecAggRefusal,
  type SessionSpec,
  sessionIdOf,
  shareKeysRequest,
  signEnvelope,
  survivorsStatement,
  unmaskRequest,
} from './messages.ts';
import type { ModularVector } from './modular-vector.ts';
import { decodeShareValue, encodeShareValue, splitSecret } from './shamir.ts';

/** Who may talk to whom: the gateway's and every node's Ed25519 public key, from policy. */
export interface FederationDirectory {
  readonly gatewayId: string;
  readonly gatewayKey: string;
  readonly nodeKeys: Readonly<Record<string, string>>;
  /** The least threshold this node accepts (policy `federation.threshold`). */
  readonly minimumThreshold: number;
}

/** What the node computes for a session: checked at round 0, computed at round 2. */
export interface NodeTasks {
  /** Throws SecAggRefusal when the task is not one this node may answer under its policy. */
  accept(spec: SessionSpec): void | Promise<void>;
  /** The node's noised integer vector for the task, reduced mod 2^spec.bits. */
  input(spec: SessionSpec): Promise<ModularVector>;
}

interface HeldShares {
  maskKey: bigint;
  selfMask: bigint;
}

interface Session {
  readonly spec: SessionSpec;
  readonly id: string;
  next: Round | 'done';
  readonly cipher: KeyAgreementPair;
  readonly mask: KeyAgreementPair;
  peers: Map<string, { cipherPublic: Uint8Array; maskPublic: Uint8Array }>;
  selfSeed?: Uint8Array;
  ownShares?: HeldShares;
  held: Map<string, HeldShares>;
  shareKeysSurvivors?: string[];
  signedSurvivors?: string[];
  readonly createdAt: number;
}

const SESSION_TTL_MS = 10 * 60_000;

export class SecAggNode {
  private readonly sessions = new Map<string, Session>();
  /** Ids of every session this process has started, so a round-0 replay is refused even after expiry. */
  private readonly seen = new Set<string>();

  constructor(
    readonly id: string,
    private readonly signingKey: CryptoKey,
    private readonly directory: FederationDirectory,
    private readonly tasks: NodeTasks,
    private readonly now: () => number = Date.now,
  ) {}

  /** One request from the gateway → this node's signed response. Throws SecAggRefusal. */
  async handle(message: unknown): Promise<Envelope> {
    const parsed = envelopeSchema.safeParse(message);
    if (!parsed.success) throw new SecAggRefusal('malformed message');
    const request = parsed.data;
    if (request.to !== this.id || request.from !== this.directory.gatewayId) {
      throw new SecAggRefusal('message is not from the gateway to this node');
    }
    if (!(await envelopeVerifies(request, this.directory.gatewayKey))) {
      throw new SecAggRefusal('gateway signature does not verify');
    }
    this.expireSessions();
    const body = await this.answer(request);
    return signEnvelope(
      { sessionId: request.sessionId, round: request.round, from: this.id, to: request.from, body },
      this.signingKey,
    );
  }

  private async answer(request: Envelope): Promise<Record<string, unknown>> {
    if (request.round === 'advertise') return this.advertise(request);
    const session = this.sessions.get(request.sessionId);
    if (!session || session.next !== request.round) {
      throw new SecAggRefusal(`no session awaiting ${request.round}: replayed or out of order`);
    }
    switch (request.round) {
      case 'share-keys':
        return this.shareKeys(session, request);
      case 'masked-input':
        return this.maskedInput(session, request);
      case 'consistency':
        return this.consistency(session, request);
      case 'unmask':
        return this.unmask(session, request);
    }
  }

  private async advertise(request: Envelope): Promise<Record<string, unknown>> {
    const { spec } = parseBody(advertiseRequest, request.body);
    const id = await sessionIdOf(spec);
    if (id !== request.sessionId) throw new SecAggRefusal('session id does not match its spec');
    if (this.seen.has(id)) throw new SecAggRefusal('session already started: replayed');
    if (!spec.nodes.includes(this.id)) throw new SecAggRefusal('this node is not in the session');
    if (canonicalJson(spec.nodes) !== canonicalJson([...new Set(spec.nodes)].sort())) {
      throw new SecAggRefusal('session nodes must be sorted and distinct');
    }
    const unknown = spec.nodes.filter((node) => !(node in this.directory.nodeKeys));
    if (unknown.length > 0) throw new SecAggRefusal('session names nodes the policy does not');
    if (spec.threshold < this.directory.minimumThreshold || spec.threshold > spec.nodes.length) {
      throw new SecAggRefusal('session threshold is below the policy threshold');
    }
    await this.tasks.accept(spec);
    this.seen.add(id);
    const session: Session = {
      spec,
      id,
      next: 'share-keys',
      cipher: await generateKeyAgreementPair(),
      mask: await generateKeyAgreementPair(),
      peers: new Map(),
      held: new Map(),
      createdAt: this.now(),
    };
    this.sessions.set(id, session);
    return {
      cipherPublic: toBase64Url(session.cipher.publicKey),
      maskPublic: toBase64Url(session.mask.publicKey),
    };
  }

  private async shareKeys(session: Session, request: Envelope): Promise<Record<string, unknown>> {
    const { advertisements } = parseBody(shareKeysRequest, request.body);
    for (const advert of advertisements) {
      const key = this.directory.nodeKeys[advert.from];
      const valid =
        key !== undefined &&
        advert.sessionId === session.id &&
        advert.round === 'advertise' &&
        advert.to === this.directory.gatewayId &&
        session.spec.nodes.includes(advert.from) &&
        (await envelopeVerifies(advert, key));
      if (!valid) throw new SecAggRefusal('an advertised key is not signed by its node for this session');
      const keys = parseBody(advertiseResponse, advert.body);
      if (session.peers.has(advert.from)) throw new SecAggRefusal('a node advertised twice');
      session.peers.set(advert.from, {
        cipherPublic: fromBase64Url(keys.cipherPublic),
        maskPublic: fromBase64Url(keys.maskPublic),
      });
    }
    const own = session.peers.get(this.id);
    if (
      !own ||
      !bytesEqual(own.cipherPublic, session.cipher.publicKey) ||
      !bytesEqual(own.maskPublic, session.mask.publicKey)
    ) {
      throw new SecAggRefusal('this node’s own keys are missing or altered');
    }
    const roster = [...session.peers.keys()].sort();
    if (roster.length < session.spec.threshold) throw new SecAggRefusal('fewer nodes than the threshold');

    const selfSeed = randomBytes(32);
    session.selfSeed = selfSeed;
    const points = roster.map((node) => pointOf(session.spec, node));
    const maskKeyShares = splitSecret(
      await exportAgreementSecret(session.mask.privateKey),
      session.spec.threshold,
      points,
    );
    const selfMaskShares = splitSecret(selfSeed, session.spec.threshold, points);
    const ciphertexts: Record<string, string> = {};
    for (const [index, node] of roster.entries()) {
      const shares = { maskKey: maskKeyShares[index]!.y, selfMask: selfMaskShares[index]!.y };
      if (node === this.id) {
        session.ownShares = shares;
        continue;
      }
      const peer = session.peers.get(node)!;
      const { key, aad } = await shareKey(
        await agree(session.cipher.privateKey, peer.cipherPublic),
        session.id,
        this.id,
        node,
      );
      const plaintext = utf8(
        canonicalJson({
          from: this.id,
          to: node,
          maskKey: toBase64Url(encodeShareValue(shares.maskKey)),
          selfMask: toBase64Url(encodeShareValue(shares.selfMask)),
        }),
      );
      ciphertexts[node] = toBase64Url(await seal(key, plaintext, aad));
    }
    session.next = 'masked-input';
    return { ciphertexts };
  }

  private async maskedInput(session: Session, request: Envelope): Promise<Record<string, unknown>> {
    const { survivors, ciphertexts } = parseBody(maskedInputRequest, request.body);
    const roster = checkSurvivorSet(survivors, [...session.peers.keys()], session.spec.threshold, this.id);
    for (const node of roster) {
      if (node === this.id) continue;
      const sealed = ciphertexts[node];
      if (sealed === undefined) throw new SecAggRefusal('a survivor’s shares are missing');
      const peer = session.peers.get(node)!;
      const { key, aad } = await shareKey(
        await agree(session.cipher.privateKey, peer.cipherPublic),
        session.id,
        node,
        this.id,
      );
      const content = JSON.parse(
        new TextDecoder().decode(await open(key, fromBase64Url(sealed), aad)),
      ) as Record<string, unknown>;
      if (content.from !== node || content.to !== this.id)
        throw new SecAggRefusal('shares addressed wrongly');
      session.held.set(node, {
        maskKey: decodeShareValue(fromBase64Url(String(content.maskKey))),
        selfMask: decodeShareValue(fromBase64Url(String(content.selfMask))),
      });
    }
    session.held.set(this.id, session.ownShares!);
    session.shareKeysSurvivors = roster;

    const shape = { bits: session.spec.bits, length: session.spec.length };
    const masked = await this.tasks.input(session.spec);
    if (masked.bits !== shape.bits || masked.length !== shape.length) {
      throw new SecAggRefusal('the task produced a vector of the wrong shape');
    }
    masked.add(await selfMask(session.selfSeed!, session.id, this.id, shape));
    for (const node of roster) {
      if (node === this.id) continue;
      const secret = await agree(session.mask.privateKey, session.peers.get(node)!.maskPublic);
      const mask = await pairMask(secret, session.id, this.id, node, shape);
      if (pairSign(this.id, node) === 1) masked.add(mask);
      else masked.subtract(mask);
    }
    session.next = 'consistency';
    return { masked: toBase64Url(masked.toBytes()) };
  }

  private async consistency(session: Session, request: Envelope): Promise<Record<string, unknown>> {
    const { survivors } = parseBody(consistencyRequest, request.body);
    const roster = checkSurvivorSet(survivors, session.shareKeysSurvivors!, session.spec.threshold, this.id);
    session.signedSurvivors = roster;
    session.next = 'unmask';
    return { survivorsSignature: await sign(this.signingKey, survivorsStatement(session.id, roster)) };
  }

  private async unmask(session: Session, request: Envelope): Promise<Record<string, unknown>> {
    const { survivors, signatures } = parseBody(unmaskRequest, request.body);
    const signed = session.signedSurvivors!;
    if (canonicalJson(survivors) !== canonicalJson(signed)) {
      throw new SecAggRefusal('unmask asks for a survivor set other than the one this node signed');
    }
    const statement = survivorsStatement(session.id, signed);
    let valid = 0;
    for (const node of signed) {
      const signature = signatures[node];
      if (signature && (await verify(this.directory.nodeKeys[node]!, signature, statement))) valid++;
    }
    if (valid < session.spec.threshold) throw new SecAggRefusal('too few survivors signed the survivor set');
    // One answer per session, whatever happens next.
    session.next = 'done';
    const selfMaskShares: Record<string, string> = {};
    const maskKeyShares: Record<string, string> = {};
    for (const node of session.shareKeysSurvivors!) {
      const held = session.held.get(node)!;
      if (signed.includes(node)) selfMaskShares[node] = toBase64Url(encodeShareValue(held.selfMask));
      else maskKeyShares[node] = toBase64Url(encodeShareValue(held.maskKey));
    }
    this.sessions.delete(session.id);
    return { selfMaskShares, maskKeyShares };
  }

  private expireSessions(): void {
    const cutoff = this.now() - SESSION_TTL_MS;
    for (const [id, session] of this.sessions) if (session.createdAt < cutoff) this.sessions.delete(id);
  }
}

/** A node's Shamir evaluation point: its 1-based position in the session's sorted node list. */
export function pointOf(spec: SessionSpec, node: string): number {
  const index = spec.nodes.indexOf(node);
  if (index < 0) throw new SecAggRefusal('node is not in the session');
  return index + 1;
}

function checkSurvivorSet(
  survivors: readonly string[],
  previous: readonly string[],
  threshold: number,
  self: string,
): string[] {
  const sorted = [...new Set(survivors)].sort();
  if (sorted.length !== survivors.length || canonicalJson(sorted) !== canonicalJson(survivors)) {
    throw new SecAggRefusal('survivor list must be sorted and distinct');
  }
  if (sorted.some((node) => !previous.includes(node)))
    throw new SecAggRefusal('survivors include a node that dropped earlier');
  if (!sorted.includes(self)) throw new SecAggRefusal('this node is not among the survivors');
  if (sorted.length < threshold) throw new SecAggRefusal('fewer survivors than the threshold');
  return sorted;
}

function parseBody<T>(
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  body: unknown,
): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new SecAggRefusal('malformed message body');
  return parsed.data;
}
