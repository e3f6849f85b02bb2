/**
 * Stands in for the sealed-secrets controller (bitnami-labs/sealed-secrets),
 * which cannot run here: a controller's sealing key pair, made at test time
 * with the real `openssl` CLI (RSA, self-signed, like the controller's own
 * certificate; never committed), and an unsealer written from the
 * controller's documented format, not from the library's encryption code:
 *
 *   value  = base64( uint16be(n) || RSA-OAEP-SHA256(sessionKey, label) [n bytes] || AES-256-GCM(value) || tag [16 bytes] )
 *   nonce  = 12 zero bytes (the session key is used once)
 *   label  = "<namespace>/<name>" (strict), "<namespace>" (annotation
 *            sealedsecrets.bitnami.com/namespace-wide), "" (…/cluster-wide),
 *            read from the SealedSecret's own metadata, as the controller's
 *            Unseal does; the Secret is the template with the SealedSecret's
 *            name and namespace.
 * (pkg/crypto/crypto.go and pkg/apis/sealedsecrets/v1alpha1 of v0.36.)
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A controller's key pair: the certificate kubeseal --fetch-cert prints, and the private key the controller keeps. */
export interface ControllerKey {
  readonly certificate: string;
  readonly privateKey: string;
}

/** Makes `count` controller key pairs (RSA 2048: the controller's 4096 only costs time here). */
export function controllerKeys(count: number): ControllerKey[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealed-controller-'));
  try {
    return Array.from({ length: count }, (_, i) => {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${i}.key`, '-out', `${i}.crt`,
        '-subj', '/O=sealed-secret/CN=sealed-secret', '-days', '30'], { cwd: dir, stdio: 'pipe' });
      return { certificate: fs.readFileSync(path.join(dir, `${i}.crt`), 'utf8'), privateKey: fs.readFileSync(path.join(dir, `${i}.key`), 'utf8') };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The OAEP label the controller uses for a SealedSecret, from its own annotations. */
export function labelOf(sealed: any): string {
  const a = sealed.metadata?.annotations ?? {};
  if (a['sealedsecrets.bitnami.com/cluster-wide'] === 'true') return '';
  if (a['sealedsecrets.bitnami.com/namespace-wide'] === 'true') return sealed.metadata.namespace ?? '';
  return `${sealed.metadata.namespace ?? ''}/${sealed.metadata.name}`;
}

/** The parts of one sealed value. */
export function splitValue(value: string): { rsa: Buffer; aes: Buffer } {
  const raw = Buffer.from(value, 'base64');
  if (raw.length < 2) throw new Error('sealed value too short');
  const n = raw.readUInt16BE(0);
  if (raw.length < 2 + n + 16) throw new Error('sealed value too short');
  return { rsa: raw.subarray(2, 2 + n), aes: raw.subarray(2 + n) };
}

/** AES-256-GCM with the zero nonce; the last 16 bytes are the tag. */
export function openAes(sessionKey: Buffer, aes: Buffer): Buffer {
  const d = crypto.createDecipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  d.setAuthTag(aes.subarray(aes.length - 16));
  return Buffer.concat([d.update(aes.subarray(0, aes.length - 16)), d.final()]);
}

/** Unseals one value with `label`; throws when the key or the label is not the one it was sealed with. */
export function unsealValue(key: ControllerKey, value: string, label: string): Buffer {
  const { rsa, aes } = splitValue(value);
  const sessionKey = crypto.privateDecrypt({
    key: key.privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(label, 'utf8'),
  }, rsa);
  if (sessionKey.length !== 32) throw new Error(`session key of ${sessionKey.length} bytes`);
  return openAes(sessionKey, aes);
}

/** The session key of one value, decrypted by the real openssl CLI (RSA-OAEP, SHA-256, label). */
export function opensslSessionKey(key: ControllerKey, value: string, label: string): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealed-openssl-'));
  try {
    fs.writeFileSync(path.join(dir, 'k.pem'), key.privateKey, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'in.bin'), splitValue(value).rsa);
    const args = ['pkeyutl', '-decrypt', '-inkey', 'k.pem', '-in', 'in.bin', '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'];
    if (label !== '') args.push('-pkeyopt', `rsa_oaep_label:${Buffer.from(label, 'utf8').toString('hex')}`);
    return execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The Secret the controller makes of a SealedSecret (what its Unseal returns, owner reference aside). */
export function unseal(key: ControllerKey, sealed: any): any {
  const label = labelOf(sealed);
  const template = sealed.spec.template ?? {};
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(sealed.spec.encryptedData as Record<string, string>)) {
    data[k] = unsealValue(key, v, label).toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { ...(template.metadata ?? {}), name: sealed.metadata.name, namespace: sealed.metadata.namespace },
    ...(template.type !== undefined ? { type: template.type } : {}),
    ...(template.immutable !== undefined ? { immutable: template.immutable } : {}),
    data,
  };
}
