/**
 * NATS JWTs (v2), encoded and decoded with nkeys.js, for the auth-callout
 * stand-in: header `{"typ":"JWT","alg":"ed25519-nkey"}`, base64url claims,
 * an ed25519 signature by the issuer's nkey over `header.claims`, and a
 * `jti` that is the base32 SHA-512/256 of the claims without it, as
 * github.com/nats-io/jwt/v2 writes them
 * (https://docs.nats.io/running-a-nats-service/configuration/securing_nats/auth_callout).
 *
 * Written here (~120 lines) rather than taking `@nats-io/jwt` (0.0.x, a
 * pre-release that would add @nats-io/nkeys 2.x next to nkeys.js). The
 * ed25519 work runs on Node's crypto: nkeys.js's pure-JS ed25519 takes
 * ~70 ms a signature on a loaded 2-core machine, and an auth-callout answer
 * needs four signature operations within the server's callout timeout.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'crypto';
import { fromSeed, KeyPair } from 'nkeys.js';

const HEADER = { typ: 'JWT', alg: 'ed25519-nkey' };

/** Claims every NATS JWT carries; `nats` holds the type-specific part. */
export interface NatsClaims {
  readonly jti?: string;
  readonly iat?: number;
  readonly exp?: number;
  readonly iss: string;
  readonly sub: string;
  readonly aud?: string;
  readonly name?: string;
  readonly nats: Record<string, unknown> & { readonly type: string; readonly version?: number };
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32NoPad(data: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = (value * 256 + byte) % 4096; // keep at most 12 bits pending
    bits += 8;
    while (bits >= 5) {
      out += BASE32[Math.floor(value / 2 ** (bits - 5)) % 32];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value * 2 ** (5 - bits)) % 32];
  return out;
}

function base32Decode(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error('not an nkey: it holds a character outside base32');
    value = (value * 32 + v) % 8192;
    bits += 5;
    if (bits >= 8) {
      out.push(Math.floor(value / 2 ** (bits - 8)) % 256);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// DER prefixes that wrap a raw 32-byte ed25519 key as PKCS#8 / SPKI (RFC 8410).
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

const privateKeys = new WeakMap<KeyPair, KeyObject>();
function privateKeyOf(kp: KeyPair): KeyObject {
  let key = privateKeys.get(kp);
  if (!key) {
    // A seed is base32(2 prefix bytes, 32-byte ed25519 seed, CRC16).
    const raw = base32Decode(new TextDecoder().decode(kp.getSeed())).subarray(2, 34);
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw]), format: 'der', type: 'pkcs8' });
    privateKeys.set(kp, key);
  }
  return key;
}

/** Signs `data` with an nkey (ed25519, Node's crypto). */
export function nkeySign(kp: KeyPair, data: Uint8Array): Buffer {
  return sign(null, data, privateKeyOf(kp));
}

/** Whether `sig` is `publicKey`'s ed25519 signature of `data` (false for anything malformed). */
export function nkeyVerify(publicKey: string, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    // A public key is base32(1 prefix byte, 32-byte ed25519 key, CRC16).
    const raw = base32Decode(publicKey);
    if (raw.length !== 35) return false;
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw.subarray(1, 33)]), format: 'der', type: 'spki' });
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

/** Encodes and signs claims with `signer` (its public key must be `claims.iss`). */
export function encodeJwt(claims: NatsClaims, signer: KeyPair): string {
  if (signer.getPublicKey() !== claims.iss) throw new Error('the JWT signer is not the claims issuer (iss)');
  const body: Record<string, unknown> = { ...claims, jti: undefined, iat: claims.iat ?? Math.floor(Date.now() / 1000) };
  body.nats = { version: 2, ...claims.nats };
  delete body.jti;
  const jti = base32NoPad(createHash('sha512-256').update(JSON.stringify(body)).digest());
  const signingInput = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify({ jti, ...body }))}`;
  return `${signingInput}.${b64url(nkeySign(signer, Buffer.from(signingInput)))}`;
}

/**
 * Decodes a JWT and verifies its signature against its own `iss`, whose
 * public key must start with one of `issuerPrefixes` (e.g. `N` for a
 * server). Throws with what is wrong.
 */
export function decodeJwt(token: string, issuerPrefixes: string): NatsClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`a JWT has 3 dot-separated parts, this has ${parts.length}`);
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { typ?: string; alg?: string };
  if (header.alg !== HEADER.alg) throw new Error(`JWT alg is ${JSON.stringify(header.alg)}, expected "${HEADER.alg}"`);
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as NatsClaims;
  if (typeof claims.iss !== 'string' || !issuerPrefixes.includes(claims.iss[0])) {
    throw new Error(`JWT issuer ${JSON.stringify(claims.iss)} is not a public key starting with one of ${issuerPrefixes.split('').join(', ')}`);
  }
  const ok = nkeyVerify(claims.iss, Buffer.from(`${parts[0]}.${parts[1]}`), Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new Error('JWT signature does not verify with its issuer key');
  return claims;
}

/**
 * The nonce signature as nats.go sends it (`base64.RawURLEncoding`:
 * URL-safe alphabet, no padding), decoded strictly: anything else
 * (standard base64 with `+`, `/` or `=`, which nats.js sends) is undefined.
 */
export function decodeGoNonceSignature(sig: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(sig) || sig.length % 4 === 1) return undefined;
  return Buffer.from(sig, 'base64url');
}

/**
 * A nats.js authenticator that signs the nonce as nats.go clients do
 * (unpadded URL-safe base64; nats.js itself sends standard base64, which
 * nats-server accepts but the DSX auth-callout service refuses).
 */
export function goNkeyAuthenticator(seed: Uint8Array) {
  return (nonce?: string) => {
    const kp = fromSeed(seed);
    return { nkey: kp.getPublicKey(), sig: Buffer.from(kp.sign(new TextEncoder().encode(nonce ?? ''))).toString('base64url') };
  };
}
