import * as crypto from 'crypto';
import { inspect } from 'util';
// The codec (prefix bytes, base32, CRC16) is nkeys.js's own, so our encoding
// cannot drift from the NATS reference implementation. Only the public-key
// derivation uses Node's native Ed25519/X25519 (about 10x faster than the
// pure-JS path; test/keys/nkey.test.ts proves the results byte-identical).
import { Codec } from 'nkeys.js/lib/codec';
import { problem } from '../errors';
import { containsSeed } from '../redact';

/**
 * The kinds of NKey that NATS defines. Each kind has its own public-key
 * prefix letter and seed prefix (`S` + the letter).
 */
export enum NKeyKind {
  /** User key: public `U…`, seed `SU…`. */
  USER = 'user',
  /** Account key: public `A…`, seed `SA…`. */
  ACCOUNT = 'account',
  /** Curve (X25519) key, "xkey": public `X…`, seed `SX…`. */
  CURVE = 'curve',
  /** Operator key: public `O…`, seed `SO…`. */
  OPERATOR = 'operator',
  /** Server key: public `N…`, seed `SN…`. */
  SERVER = 'server',
  /** Cluster key: public `C…`, seed `SC…`. */
  CLUSTER = 'cluster',
}

interface KindInfo {
  readonly kind: NKeyKind;
  readonly letter: string;
  readonly prefixByte: number;
}

// Prefix byte = (base32 index of the letter) * 8, so the letter leads the encoding.
const KINDS: readonly KindInfo[] = [
  { kind: NKeyKind.USER, letter: 'U', prefixByte: 160 },
  { kind: NKeyKind.ACCOUNT, letter: 'A', prefixByte: 0 },
  { kind: NKeyKind.CURVE, letter: 'X', prefixByte: 184 },
  { kind: NKeyKind.OPERATOR, letter: 'O', prefixByte: 112 },
  { kind: NKeyKind.SERVER, letter: 'N', prefixByte: 104 },
  { kind: NKeyKind.CLUSTER, letter: 'C', prefixByte: 16 },
];
const BY_KIND = new Map(KINDS.map((k) => [k.kind, k]));
const BY_LETTER = new Map(KINDS.map((k) => [k.letter, k]));
const BY_PREFIX_BYTE = new Map(KINDS.map((k) => [k.prefixByte, k]));

const PUBLIC_KEY_LENGTH = 56;
const SEED_LENGTH = 58;
const BASE32 = /^[A-Z2-7]+$/;

/** A seed-shaped string: `S` + a key-kind letter + 56 base32 characters. */
export const SEED_PATTERN = /S[UAXONCP][A-Z2-7]{56}/;

function kindInfo(kind: NKeyKind): KindInfo {
  const info = BY_KIND.get(kind);
  if (!info) {
    throw problem({ problem: `unknown NKey kind ${JSON.stringify(kind)}`, allowed: KINDS.map((k) => k.kind).join(', ') });
  }
  return info;
}

/** Article + name of a kind for messages: "a user key", "an account key". */
export function describeKind(kind: NKeyKind): string {
  return `${kind === NKeyKind.ACCOUNT || kind === NKeyKind.OPERATOR ? 'an' : 'a'} ${kind} key`;
}

/**
 * Describes a rejected key value without quoting it: its length, lines and
 * the class of its first character, e.g. `58 characters on 2 lines, starting
 * with an upper-case letter`.
 */
export function describeValue(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n').length;
  const first = text[0];
  const firstClass = first === undefined ? ''
    : first === '\uFEFF' ? ', starting with a byte-order mark'
      : /\s/.test(first) ? ', starting with whitespace'
        : /[A-Z]/.test(first) ? ', starting with an upper-case letter'
          : /[a-z]/.test(first) ? ', starting with a lower-case letter'
            : /[0-9]/.test(first) ? ', starting with a digit'
              : /["']/.test(first) ? ', starting with a quote'
                : ', starting with another character';
  return `${text.length} character${text.length === 1 ? '' : 's'}${lines > 1 ? ` on ${lines} lines` : ''}${firstClass}`;
}

function sourceOf(source: string | undefined): string {
  return source ?? 'NKey value';
}

/**
 * A native private-key object for a raw 32-byte seed. Imported as a JWK:
 * Node derives the public key from `d` (`x` is required to be a string but
 * unused for private keys), and this path is about 10x faster than parsing
 * PKCS#8 DER with OpenSSL 3's decoders (~50 us instead of ~550 us per key),
 * which matters when a run derives a thousand keys.
 */
function privateKeyObject(kind: NKeyKind, raw: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({
    key: { kty: 'OKP', crv: kind === NKeyKind.CURVE ? 'X25519' : 'Ed25519', d: Buffer.from(raw).toString('base64url'), x: '' },
    format: 'jwk',
  });
}

/** Raw 32-byte public key for a raw 32-byte seed, with Node's native crypto. */
function derivePublic(kind: NKeyKind, raw: Uint8Array): Buffer {
  const x = privateKeyObject(kind, raw).export({ format: 'jwk' }).x;
  return Buffer.from(x!, 'base64url');
}

/**
 * A NATS NKey public key (`U…`, `A…`, `X…`, …). Public keys are not secret:
 * they may appear in manifests, logs and error messages.
 */
export class NKeyPublicKey {
  /**
   * Parses and validates a public key: prefix letter, base32 alphabet, length
   * and CRC16 checksum. Trailing whitespace (as left by `echo` or editors) is
   * ignored.
   *
   * @param text the encoded public key
   * @param source where the value came from, named in errors (a file path or construct path)
   * @param expectedKind if given, the key must be of this kind
   */
  public static parse(text: string, source?: string, expectedKind?: NKeyKind): NKeyPublicKey {
    const value = text.trimEnd(); // (not /\s+$/: quadratic on long inner whitespace)
    const where = sourceOf(source);
    // The value is never quoted: a key file or field may hold a seed in any
    // form (lower case, after a BOM, next to its public key), so errors
    // describe it instead (length, line count, first character).
    const fail = (what: string): never => {
      throw problem({
        where,
        problem: `is not a valid NKey public key: ${what}${text === '' ? '' : ` (the value: ${describeValue(text)})`}`,
        allowed: `${PUBLIC_KEY_LENGTH} base32 characters (A-Z, 2-7) starting with ${expectedKind ? kindInfo(expectedKind).letter : 'U, A, X, O, N or C'}`,
        fix: 'use the public key as `nk -inkey <seed file> -pubout` prints it; a key file of the key store must be restored from its source or regenerated with `dsx-event-bus nkeys`',
      });
    };
    if (value.length === 0) fail('the value is empty');
    if (containsSeed(text) || (/^["']?\s*s[uaxoncp]/i.test(text.trimStart()) && text.replace(/[^a-z2-7]/gi, '').length >= SEED_LENGTH)) {
      throw problem({
        where,
        problem: `holds a seed where a public key was expected (the value: ${describeValue(text)})`,
        fix: 'put the public key (not the seed) here; seeds belong only in `seed` files. If the seed was ever shared, generate a new key pair',
      });
    }
    const info = BY_LETTER.get(value[0]);
    if (!info) fail('it does not start with a key-kind letter');
    if (value.length !== PUBLIC_KEY_LENGTH) fail(`length is ${value.length}, expected ${PUBLIC_KEY_LENGTH}`);
    if (!BASE32.test(value)) fail('contains characters outside the base32 alphabet');
    let raw: Uint8Array;
    try {
      raw = Codec.decode(info!.prefixByte, new TextEncoder().encode(value));
    } catch (e) {
      return fail(/checksum/i.test(String(e)) ? 'the CRC16 checksum does not match (a character was changed)' : String((e as Error).message));
    }
    if (expectedKind !== undefined && info!.kind !== expectedKind) {
      // A valid public key (checksum verified): safe to show.
      throw problem({
        where,
        problem: `holds ${value}, which is ${describeKind(info!.kind)}, not ${describeKind(expectedKind)}`,
        fix: `use the public key of ${describeKind(expectedKind)} (${kindInfo(expectedKind).letter}…); a key file of the key store must be restored from its source or regenerated with \`dsx-event-bus nkeys\``,
      });
    }
    return new NKeyPublicKey(info!.kind, value, Buffer.from(raw!));
  }

  /** @internal */
  public static _fromRaw(kind: NKeyKind, raw: Uint8Array): NKeyPublicKey {
    const value = new TextDecoder().decode(Codec.encode(kindInfo(kind).prefixByte, raw));
    return new NKeyPublicKey(kind, value, Buffer.from(raw));
  }

  /** The kind of key (user, account, curve, …). */
  public readonly kind: NKeyKind;
  /** The encoded public key, e.g. `UABC…` (56 characters). */
  public readonly value: string;
  private readonly raw: Buffer;

  private constructor(kind: NKeyKind, value: string, raw: Buffer) {
    this.kind = kind;
    this.value = value;
    this.raw = raw;
  }

  /** True when both are the same key. */
  public sameKeyAs(other: NKeyPublicKey): boolean {
    return this.value === other.value;
  }

  /** Verifies an Ed25519 signature made by the matching seed (not for curve keys). */
  public verify(data: string, signatureBase64: string): boolean {
    if (this.kind === NKeyKind.CURVE) {
      throw problem({ problem: 'curve keys cannot verify signatures', fix: 'use a user, account, operator, server or cluster key' });
    }
    const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), this.raw]), format: 'der', type: 'spki' });
    return crypto.verify(null, Buffer.from(data), key, Buffer.from(signatureBase64, 'base64'));
  }

  /** The encoded public key. */
  public toString(): string {
    return this.value;
  }
}

// Seed bytes live outside the object so no enumeration, JSON.stringify or
// util.inspect of an NKeySeed can reach them.
const SEED_BYTES = new WeakMap<NKeySeed, Buffer>();

/**
 * A NATS NKey seed (the private key). A seed is never printed: `toString()`,
 * `toJSON()` and `util.inspect` show only its kind and public key. The only way
 * to get the encoded seed is the explicit {@link NKeySeed.reveal}.
 */
export class NKeySeed {
  /**
   * Parses and validates a seed: `S` + kind letter, base32, length and CRC16.
   * Trailing whitespace is ignored. Errors never contain the seed.
   *
   * @param text the encoded seed
   * @param source where the value came from, named in errors
   * @param expectedKind if given, the seed must be of this kind
   */
  public static parse(text: string, source?: string, expectedKind?: NKeyKind): NKeySeed {
    const value = text.trimEnd(); // (not /\s+$/: quadratic on long inner whitespace)
    const where = sourceOf(source);
    const fail = (what: string): never => {
      throw problem({
        where,
        problem: `not a valid NKey seed: ${what}`,
        allowed: `${SEED_LENGTH} base32 characters (A-Z, 2-7) starting with S${expectedKind ? kindInfo(expectedKind).letter : '[UAXONC]'}`,
        fix: 'restore the file from its source, or regenerate the key pair with `dsx-event-bus nkeys`',
      });
    };
    if (value.length === 0) fail('the value is empty');
    if (value[0] !== 'S') fail(`it starts with ${JSON.stringify(value[0])}, not "S"${BY_LETTER.has(value[0]) && value.length === PUBLIC_KEY_LENGTH ? ' (this looks like a public key)' : ''}`);
    if (value.length !== SEED_LENGTH) fail(`length is ${value.length}, expected ${SEED_LENGTH}`);
    if (!BASE32.test(value)) fail('contains characters outside the base32 alphabet');
    let decoded: { prefix: number; buf: Uint8Array };
    try {
      decoded = Codec.decodeSeed(new TextEncoder().encode(value));
    } catch (e) {
      return fail(/checksum/i.test(String(e)) ? 'the CRC16 checksum does not match (a character was changed)' : `unknown key-kind prefix (${(e as Error).message})`);
    }
    const info = BY_PREFIX_BYTE.get(decoded!.prefix);
    if (!info) return fail('unknown key-kind prefix');
    if (expectedKind !== undefined && info.kind !== expectedKind) {
      fail(`it is the seed of ${describeKind(info.kind)}, expected ${describeKind(expectedKind)}`);
    }
    return new NKeySeed(info.kind, Buffer.from(decoded!.buf));
  }

  /** Generates a fresh random key pair of the given kind (OS randomness). */
  public static generate(kind: NKeyKind): NKeySeed {
    kindInfo(kind);
    return new NKeySeed(kind, crypto.randomBytes(32));
  }

  /**
   * A seed from 32 raw bytes (deterministic test keys; never predictable bytes in production).
   * @internal
   */
  public static _fromRaw(kind: NKeyKind, raw: Uint8Array): NKeySeed {
    kindInfo(kind);
    if (raw.length !== 32) throw problem({ problem: `raw seed must be 32 bytes, got ${raw.length}` });
    return new NKeySeed(kind, Buffer.from(raw));
  }

  /** The kind of key this seed belongs to. */
  public readonly kind: NKeyKind;
  private derived?: NKeyPublicKey;

  private constructor(kind: NKeyKind, raw: Buffer) {
    this.kind = kind;
    SEED_BYTES.set(this, raw);
  }

  /** The public key derived from this seed. */
  public get publicKey(): NKeyPublicKey {
    if (!this.derived) {
      this.derived = NKeyPublicKey._fromRaw(this.kind, derivePublic(this.kind, SEED_BYTES.get(this)!));
    }
    return this.derived;
  }

  /**
   * The encoded seed (`SU…`, 58 characters). This is secret key material:
   * write it only where a seed belongs (a mode-600 key file, a Secret the user
   * asked for).
   */
  public reveal(): string {
    return new TextDecoder().decode(Codec.encodeSeed(kindInfo(this.kind).prefixByte, SEED_BYTES.get(this)!));
  }

  /** Signs data with this seed (Ed25519; not for curve keys); returns base64. */
  public sign(data: string): string {
    if (this.kind === NKeyKind.CURVE) {
      throw problem({ problem: 'curve keys cannot sign', fix: 'use a user, account, operator, server or cluster key' });
    }
    const key = privateKeyObject(this.kind, SEED_BYTES.get(this)!);
    return crypto.sign(null, Buffer.from(data), key).toString('base64');
  }

  /** True when both seeds are the same key. */
  public sameKeyAs(other: NKeySeed): boolean {
    const a = SEED_BYTES.get(this)!;
    const b = SEED_BYTES.get(other)!;
    return this.kind === other.kind && crypto.timingSafeEqual(a, b);
  }

  /** A redacted description; never the seed. */
  public toString(): string {
    return `NKeySeed(${this.kind}, public key ${this.publicKey.value})`;
  }

  /** JSON form is redacted too, so serializing an object holding a seed cannot leak it. */
  public toJSON(): string {
    return this.toString();
  }
}

// util.inspect / console.log show the redacted form (defined outside the class
// body: jsii does not model symbol-named members).
Object.defineProperty(NKeySeed.prototype, inspect.custom, {
  value(this: NKeySeed) {
    return this.toString();
  },
});
