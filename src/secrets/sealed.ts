/**
 * Sealing for the sealed-secrets controller (bitnami-labs/sealed-secrets):
 * the controller's certificate, the hybrid encryption it decrypts, and the
 * reuse of an earlier synth's ciphertext while nothing it seals changed.
 *
 * Format (the controller's `pkg/crypto/crypto.go`, HybridEncrypt, v0.36):
 * a fresh 32-byte AES-256-GCM session key per value, encrypted with RSA-OAEP
 * (SHA-256, label = the scope's label); the value is
 * `uint16 big-endian length of the RSA ciphertext || RSA ciphertext ||
 * AES-GCM ciphertext and 16-byte tag` (12-byte all-zero nonce: the key is
 * used once), base64 in `spec.encryptedData`. Label: `<namespace>/<name>`
 * (strict), `<namespace>` (namespace-wide), empty (cluster-wide)
 * (`EncryptionLabel` in `pkg/apis/sealedsecrets/v1alpha1`).
 * See https://github.com/bitnami-labs/sealed-secrets#scopes.
 *
 * Library-internal (not exported from the package).
 */
import * as crypto from 'crypto';
import { IConstruct } from 'constructs';
import { problem, quote } from '../errors';

/** How far a SealedSecret may move: the sealed-secrets scopes. */
export enum SealingScope {
  /** Bound to its namespace and name (the controller's default). */
  STRICT = 'strict',
  /** Any name in its namespace: annotation `sealedsecrets.bitnami.com/namespace-wide`. */
  NAMESPACE_WIDE = 'namespace-wide',
  /** Any namespace and name in the cluster: annotation `sealedsecrets.bitnami.com/cluster-wide`. */
  CLUSTER_WIDE = 'cluster-wide',
}

/** The annotations the controller reads the scope from (on the SealedSecret and its template). */
export const SCOPE_ANNOTATIONS: Readonly<Record<SealingScope, Record<string, string>>> = {
  [SealingScope.STRICT]: {},
  [SealingScope.NAMESPACE_WIDE]: { 'sealedsecrets.bitnami.com/namespace-wide': 'true' },
  [SealingScope.CLUSTER_WIDE]: { 'sealedsecrets.bitnami.com/cluster-wide': 'true' },
};

/** The annotation holding the digest that lets a later synth keep the ciphertext. */
export const SEALED_DIGEST_ANNOTATION = 'cdk8s-dsx-event-bus/sealed-digest';
const DIGEST_VERSION = 'v1';

/** The OAEP label of a scope (`EncryptionLabel` of the controller). */
export function sealingLabel(scope: SealingScope, namespace: string, name: string): string {
  switch (scope) {
    case SealingScope.CLUSTER_WIDE: return '';
    case SealingScope.NAMESPACE_WIDE: return namespace;
    default: return `${namespace}/${name}`;
  }
}

/** One cluster's sealing certificate: the controller's public key. */
export interface SealingCertificate {
  readonly publicKey: crypto.KeyObject;
  /** SHA-256 of the certificate's DER, hex. */
  readonly fingerprint: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Parses the controller's certificate as `kubeseal --fetch-cert` writes it
 * (one PEM certificate with an RSA key), checked where it enters: `where`
 * and `what` name it in the caller's terms.
 */
export function parseSealingCertificate(pem: string, where: string, what: string): SealingCertificate {
  const fix = 'write it with kubeseal --fetch-cert --controller-namespace <ns> --controller-name <name> (the controller\'s public certificate, PEM)';
  if (typeof pem !== 'string') {
    throw problem({ where, problem: `${what} is ${pem === undefined ? 'missing' : `not a string (${typeof pem})`}`, fix });
  }
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length !== 1) {
    throw problem({
      where,
      problem: `${what} holds ${blocks.length} PEM certificates${/PRIVATE KEY-----/.test(pem) ? ' and a private key' : ''}`,
      allowed: 'exactly one "-----BEGIN CERTIFICATE-----" block (the controller\'s public certificate)',
      fix,
    });
  }
  if (/PRIVATE KEY-----/.test(pem)) {
    throw problem({ where, problem: `${what} holds a private key`, allowed: 'the controller\'s public certificate only; its private key never leaves the cluster', fix });
  }
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(blocks[0]);
  } catch (e) {
    throw problem({ where, problem: `${what} is not a readable X.509 certificate (${(e as Error).message})`, fix });
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa') {
    throw problem({
      where,
      problem: `${what} has a ${quote(cert.publicKey.asymmetricKeyType)} key`,
      allowed: 'an RSA key (the sealed-secrets controller seals with RSA-OAEP)',
      fix,
    });
  }
  const notAfter = new Date(cert.validTo);
  if (notAfter.getTime() < Date.now()) {
    throw problem({
      where,
      problem: `${what} expired on ${notAfter.toISOString()}`,
      fix: 'fetch the controller\'s current certificate (kubeseal --fetch-cert); the controller renews its key every 30 days by default',
    });
  }
  return { publicKey: cert.publicKey, fingerprint: crypto.createHash('sha256').update(cert.raw).digest('hex') };
}

/** One value sealed as the controller's HybridDecrypt reads it, base64. */
export function sealValue(cert: SealingCertificate, plaintext: Buffer, label: string): string {
  const sessionKey = crypto.randomBytes(32);
  try {
    const rsa = crypto.publicEncrypt({
      key: cert.publicKey,
      padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: 'sha256',
      oaepLabel: Buffer.from(label, 'utf8'),
    }, sessionKey);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(rsa.length);
    const gcm = crypto.createCipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
    const body = Buffer.concat([gcm.update(plaintext), gcm.final(), gcm.getAuthTag()]);
    return Buffer.concat([length, rsa, body]).toString('base64');
  } finally {
    sessionKey.fill(0);
  }
}

/**
 * The digest of what a SealedSecret seals: HMAC-SHA256 keyed with the
 * Secret's values (every key and value, length-prefixed), over the scope's
 * label, the key names and the certificate's fingerprint. Anyone able to
 * compute it already holds every value of the Secret; for seeds and private
 * keys (32+ random bytes) it reveals nothing, and the only guessable values
 * are public keys, which are public. It differs for the same values under
 * another certificate or label, so equal values in two clusters or under
 * two names are not linkable through it.
 */
export function sealedDigest(cert: SealingCertificate, label: string, values: ReadonlyArray<readonly [string, Buffer]>): string {
  const parts: Buffer[] = [];
  const field = (b: Buffer) => {
    const n = Buffer.alloc(4);
    n.writeUInt32BE(b.length);
    parts.push(n, b);
  };
  const sorted = [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of sorted) {
    field(Buffer.from(k, 'utf8'));
    field(v);
  }
  const key = Buffer.concat(parts);
  const mac = crypto.createHmac('sha256', key)
    .update(`cdk8s-dsx-event-bus sealed ${DIGEST_VERSION}\0${label}\0${sorted.map(([k]) => k).join('\0')}\0${cert.fingerprint}`)
    .digest('base64url');
  key.fill(0);
  return `${DIGEST_VERSION}:${mac}`;
}

/** A SealedSecret an earlier synth wrote: its digest and ciphertexts. */
export interface PreviousSealedSecret {
  readonly digest: string;
  readonly encryptedData: Readonly<Record<string, string>>;
}

/** Finds an earlier synth's SealedSecret by cluster folder, namespace and name. */
export type PreviousSealedSecrets = (cluster: string, namespace: string, name: string) => PreviousSealedSecret | undefined;

const previousByRoot = new WeakMap<IConstruct, PreviousSealedSecrets>();

/**
 * Makes the earlier output's SealedSecrets known to every SealedSecret under
 * `root` while it renders (the output layer reads them; constructs never
 * read files). Returns the function that forgets them.
 */
export function providePreviousSealedSecrets(root: IConstruct, previous: PreviousSealedSecrets): () => void {
  previousByRoot.set(root, previous);
  return () => {
    if (previousByRoot.get(root) === previous) previousByRoot.delete(root);
  };
}

/** The earlier output's SealedSecrets for the tree of `scope`, if the output layer gave them. */
export function previousSealedSecrets(scope: IConstruct): PreviousSealedSecrets | undefined {
  return previousByRoot.get(scope.node.root);
}

/**
 * The previous SealedSecret in a manifest an earlier synth wrote, or
 * undefined when it is not one (anything unexpected only costs a new sealing).
 */
export function previousFromManifest(obj: any): { namespace: string; name: string; previous: PreviousSealedSecret } | undefined {
  if (obj?.kind !== 'SealedSecret' || typeof obj.apiVersion !== 'string' || !obj.apiVersion.startsWith('bitnami.com/')) return undefined;
  const digest = obj.metadata?.annotations?.[SEALED_DIGEST_ANNOTATION];
  const data = obj.spec?.encryptedData;
  if (typeof digest !== 'string' || typeof obj.metadata?.name !== 'string' || !data || typeof data !== 'object') return undefined;
  if (!Object.values(data).every((v) => typeof v === 'string')) return undefined;
  return { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name, previous: { digest, encryptedData: { ...data } } };
}

/** A key or name the manifest writer leaves unquoted, and strict base64. */
const PLAIN_KEY = /^[A-Za-z][-._A-Za-z0-9]*$/;
const PLAIN_WORDS = /^(?:y|n|yes|no|true|false|on|off|null)$/i;
const BASE64 = /^[A-Za-z/][A-Za-z0-9+/]*={0,2}$/;

/**
 * The previous SealedSecret of a manifest file as this library's manifest
 * writer lays it out (2-space indents, plain scalars), read without a YAML
 * parser: a rerun of a large fleet reads thousands of them. `undefined` when
 * the text is not in exactly that shape: the caller then parses it.
 */
export function previousFromManifestText(text: string): { namespace: string; name: string; previous: PreviousSealedSecret } | undefined {
  if (!text.startsWith('apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n')) return undefined;
  const digest = /^ {4}cdk8s-dsx-event-bus\/sealed-digest: (v1:[A-Za-z0-9_-]+)$/m.exec(text)?.[1];
  const name = /^ {2}name: (.+)$/m.exec(text)?.[1];
  const namespace = /^ {2}namespace: (.+)$/m.exec(text)?.[1] ?? '';
  if (!digest || !name || !/^[a-z0-9][-a-z0-9.]*$/.test(name) || (namespace !== '' && !/^[a-z0-9][-a-z0-9]*$/.test(namespace))) return undefined;
  if (/^[0-9]/.test(name) || /^[0-9]/.test(namespace)) return undefined; // the writer quotes these
  const start = text.indexOf('\nspec:\n  encryptedData:\n');
  if (start < 0) return undefined;
  const encryptedData: Record<string, string> = {};
  for (const line of text.slice(start + '\nspec:\n  encryptedData:\n'.length).split('\n')) {
    if (!line.startsWith('    ')) break;
    const m = /^ {4}([^ :]+): ([^ ]+)$/.exec(line);
    if (!m || !PLAIN_KEY.test(m[1]) || PLAIN_WORDS.test(m[1]) || !BASE64.test(m[2])) return undefined;
    encryptedData[m[1]] = m[2];
  }
  if (Object.keys(encryptedData).length === 0) return undefined;
  return { namespace, name, previous: { digest, encryptedData } };
}
