import { describe, expect, it } from 'vitest';
import { bytesToBigint, fromBase64Url, toBase64Url } from '../../src/federation/bytes.ts';
import {
  agree,
  exportAgreementSecret,
  generateKeyAgreementPair,
  generateSigningPair,
  hkdf,
  importAgreementSecret,
  keystream,
  open,
  seal,
  sign,
  verify,
} from '../../src/federation/crypto.ts';
import { ModularVector } from '../../src/federation/modular-vector.ts';
import { combineShares, FIELD_PRIME, splitSecret } from '../../src/federation/shamir.ts';

const hex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('Web Crypto primitives (known answers)', () => {
  it('X25519 matches RFC 7748 §6.1', async () => {
    const alicePrivate = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const alicePublic = hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    const bobPublic = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const key = await importAgreementSecret(alicePrivate, alicePublic);
    expect(toHex(await agree(key, bobPublic))).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  it('X25519 refuses an all-zero (low-order) public key', async () => {
    const pair = await generateKeyAgreementPair();
    await expect(agree(pair.privateKey, new Uint8Array(32))).rejects.toThrow(/key agreement failed/);
  });

  it('an exported X25519 secret re-imports to the same key', async () => {
    const a = await generateKeyAgreementPair();
    const b = await generateKeyAgreementPair();
    const again = await importAgreementSecret(await exportAgreementSecret(a.privateKey), a.publicKey);
    expect(toHex(await agree(again, b.publicKey))).toBe(toHex(await agree(b.privateKey, a.publicKey)));
  });

  it('HKDF-SHA-256 matches RFC 5869 test case 3', async () => {
    const okm = await hkdf(hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'), new Uint8Array(0), '', 42);
    expect(toHex(okm)).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('AES-256-CTR keystream matches NIST SP 800-38A F.5.5 with a zero counter block', async () => {
    // F.5.5 encrypts with counter f0f1…ff; keystream(·) starts at 0, so compare against AES-ECB(0)
    // computed independently through AES-CBC with a zero IV on one zero block.
    const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    const stream = await keystream(key, 32);
    const cbcKey = await crypto.subtle.importKey('raw', key, 'AES-CBC', false, ['encrypt']);
    const block = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, cbcKey, new Uint8Array(16)),
    );
    expect(toHex(stream.subarray(0, 16))).toBe(toHex(block.subarray(0, 16)));
    expect(toHex(stream.subarray(16, 32))).not.toBe(toHex(stream.subarray(0, 16)));
  });

  it('Ed25519 matches RFC 8032 §7.1 test 1 and rejects a changed message', async () => {
    const publicKey = toBase64Url(hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'));
    const signature = toBase64Url(
      hex(
        'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      ),
    );
    expect(await verify(publicKey, signature, new Uint8Array(0))).toBe(true);
    expect(await verify(publicKey, signature, new Uint8Array(1))).toBe(false);
    const pair = await generateSigningPair();
    const message = new Uint8Array([1, 2, 3]);
    expect(await verify(pair.publicKey, await sign(pair.privateKey, message), message)).toBe(true);
  });

  it('AES-GCM opens only with the same associated data', async () => {
    const key = new Uint8Array(32).fill(7);
    const sealed = await seal(key, new Uint8Array([9, 9]), new Uint8Array([1]));
    expect([...(await open(key, sealed, new Uint8Array([1])))]).toEqual([9, 9]);
    await expect(open(key, sealed, new Uint8Array([2]))).rejects.toThrow(/authenticate/);
  });

  it('base64url round-trips and refuses other alphabets', () => {
    expect([...fromBase64Url(toBase64Url(new Uint8Array([250, 251, 252])))]).toEqual([250, 251, 252]);
    expect(() => fromBase64Url('a+b/')).toThrow();
  });
});

describe('Shamir t-of-n over GF(2^521 − 1)', () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));

  it('any t shares recover the secret', () => {
    const shares = splitSecret(secret, 3, [1, 2, 3, 4, 5]);
    for (const subset of [
      [0, 1, 2],
      [0, 2, 4],
      [4, 3, 1],
      [1, 2, 3, 4],
    ]) {
      expect(
        toHex(
          combineShares(
            subset.map((i) => shares[i]!),
            3,
            32,
          ),
        ),
      ).toBe(toHex(secret));
    }
  });

  it('t − 1 shares say nothing: for any candidate secret some polynomial fits them', () => {
    const shares = splitSecret(secret, 3, [1, 2, 3, 4, 5]).slice(0, 2);
    // With a third share chosen freely, every secret is reachable: combine with two different third values.
    const a = combineShares([...shares, { x: 3, y: 0n }], 3, 66);
    const b = combineShares([...shares, { x: 3, y: 1n }], 3, 66);
    expect(toHex(a)).not.toBe(toHex(b));
  });

  it('share values are field elements and combining refuses too few shares', () => {
    const shares = splitSecret(secret, 2, [1, 2, 3]);
    for (const share of shares) expect(share.y < FIELD_PRIME).toBe(true);
    expect(() => combineShares(shares.slice(0, 1), 2, 32)).toThrow(/fewer shares/);
    expect(() => splitSecret(secret, 4, [1, 2, 3])).toThrow();
    expect(() => splitSecret(secret, 2, [0, 1])).toThrow();
  });

  it('a one-of-n sharing is the secret itself at every point', () => {
    const shares = splitSecret(secret, 1, [1, 2]);
    expect(shares[0]!.y).toBe(bytesToBigint(secret));
  });
});

describe('vectors modulo 2^bits', () => {
  for (const bits of [8, 20, 32, 33, 48, 64]) {
    it(`adds, subtracts and decodes signed values at ${bits} bits`, () => {
      const half = 2 ** Math.min(bits - 3, 50);
      const a = [0, 1, -1, half, -half, 12345 % half, -(54321 % half)];
      const b = [5, -7, 3, -half, half - 1, 1, 2];
      const va = ModularVector.fromIntegers(bits, a);
      const vb = ModularVector.fromIntegers(bits, b);
      expect(va.clone().add(vb).toSignedIntegers()).toEqual(a.map((x, i) => x + b[i]!));
      expect(va.clone().subtract(vb).toSignedIntegers()).toEqual(a.map((x, i) => x - b[i]!));
      expect(ModularVector.fromBytes(bits, a.length, va.toBytes()).equals(va)).toBe(true);
    });
  }

  it('wraps around at the modulus', () => {
    const v = ModularVector.fromIntegers(8, [127]).add(ModularVector.fromIntegers(8, [1]));
    expect(v.toSignedIntegers()).toEqual([-128]);
    const w = ModularVector.fromIntegers(64, [-1]).add(ModularVector.fromIntegers(64, [1]));
    expect(w.toSignedIntegers()).toEqual([0]);
  });

  it('refuses a wrong-length or out-of-range wire vector', () => {
    expect(() => ModularVector.fromBytes(20, 2, new Uint8Array(5))).toThrow(/wrong length/);
    expect(() => ModularVector.fromBytes(20, 1, new Uint8Array([255, 255, 255]))).toThrow(
      /outside the modulus/,
    );
  });

  it('a mask plus its negation is zero, so masks cancel', async () => {
    const stream = await keystream(new Uint8Array(32).fill(3), 8 * 1000);
    const mask = ModularVector.fromKeystream(64, 1000, stream);
    const x = ModularVector.fromIntegers(
      64,
      Array.from({ length: 1000 }, (_, i) => i - 500),
    );
    expect(x.clone().add(mask).subtract(mask).equals(x)).toBe(true);
    expect(x.clone().add(mask).equals(x)).toBe(false);
  });
});
