/**
 * nkeys.js signs and verifies with tweetnacl (pure JavaScript). Inside jest's
 * module sandbox that is about 7x slower than in plain Node (measured on the
 * 2-core CI machine under load: ~0.8 s per sign+verify in jest, ~0.1 s in
 * plain Node, ~1 ms with Node's native ed25519). The fleet's auth-callout
 * stand-ins sign and verify four times per connection, so with tweetnacl the
 * servers' 2-second authentication timeout expires before the callout
 * answers and no leaf ever forms.
 *
 * useNativeEd25519() installs, through nkeys.js's own plug point
 * (`setEd25519Helper` in nkeys.js/lib/helper), the same ed25519 done by
 * Node's crypto: same keys, and (ed25519 being deterministic) the same
 * signatures, which it checks once against tweetnacl before switching. The
 * curve (xkey) functions stay tweetnacl's. It changes the speed only: every
 * key, signature and sealed box is what nkeys.js would produce.
 */
import * as crypto from 'crypto';

interface Ed25519Helper {
  fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  sign(data: Uint8Array, key: Uint8Array): Uint8Array;
  verify(data: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean;
  randomBytes(len: number): Uint8Array;
  scalarBaseMultiply(n: Uint8Array): Uint8Array;
  seal(data: Uint8Array, nonce: Uint8Array, pub: Uint8Array, key: Uint8Array): Uint8Array;
  open(data: Uint8Array, nonce: Uint8Array, pub: Uint8Array, key: Uint8Array): Uint8Array;
}

// DER prefixes of an Ed25519 PKCS#8 private key and SPKI public key (RFC 8410), followed by the 32 raw bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKey(seed32: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(seed32)]), format: 'der', type: 'pkcs8' });
}

function publicKey(pub32: Uint8Array): crypto.KeyObject {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(pub32)]), format: 'der', type: 'spki' });
}

let installed = false;
/** nkeys.js's plug point and its two helpers, once {@link useNativeEd25519} has switched. */
let switched: { plug: { setEd25519Helper(h: Ed25519Helper): void }; tweetnacl: Ed25519Helper; native: Ed25519Helper } | undefined;

/** Switches nkeys.js's ed25519 to Node's crypto (see the file header); idempotent. */
export function useNativeEd25519(): void {
  if (installed) return;
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('nkeys.js'); // installs tweetnacl's helper first
  const plug = require('nkeys.js/lib/helper') as { getEd25519Helper(): Ed25519Helper; setEd25519Helper(h: Ed25519Helper): void };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const original = plug.getEd25519Helper();
  const native: Ed25519Helper = {
    ...original,
    fromSeed(seed) {
      const raw = crypto.createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
      return { publicKey: new Uint8Array(raw), secretKey: new Uint8Array(Buffer.concat([Buffer.from(seed), raw])) };
    },
    sign(data, key) {
      return new Uint8Array(crypto.sign(null, Buffer.from(data), privateKey(key.subarray(0, 32))));
    },
    verify(data, sig, pub) {
      try {
        return crypto.verify(null, Buffer.from(data), publicKey(pub), Buffer.from(sig));
      } catch {
        return false;
      }
    },
  };
  // Same keys and signatures as tweetnacl, or no switch.
  const seed = crypto.randomBytes(32);
  const a = original.fromSeed(seed);
  const b = native.fromSeed(seed);
  const msg = crypto.randomBytes(64);
  const sa = original.sign(msg, a.secretKey);
  const sb = native.sign(msg, b.secretKey);
  if (Buffer.compare(Buffer.from(a.secretKey), Buffer.from(b.secretKey)) !== 0 || Buffer.compare(Buffer.from(sa), Buffer.from(sb)) !== 0
    || !native.verify(msg, sa, a.publicKey) || native.verify(Buffer.from('other'), sa, a.publicKey)) {
    throw new Error('native ed25519 disagrees with tweetnacl; not switching');
  }
  plug.setEd25519Helper(native);
  switched = { plug, tweetnacl: original, native };
  installed = true;
}

/**
 * Runs `body` (synchronous, so nothing else runs meanwhile) with nkeys.js on
 * its own tweetnacl ed25519, for a check that uses nkeys.js as an
 * implementation independent of Node's crypto (which the library uses); then
 * switches back. Without {@link useNativeEd25519} it just runs `body`.
 */
export function withTweetnaclEd25519<T>(body: () => T): T {
  if (!switched) return body();
  const s = switched;
  s.plug.setEd25519Helper(s.tweetnacl);
  try {
    return body();
  } finally {
    s.plug.setEd25519Helper(s.native);
  }
}
