/**
 * Evaluation certificates for the mTLS MQTT endpoint, generated with
 * @peculiar/x509 on Node's WebCrypto (no cfssl, no hand-written ASN.1): per
 * cluster a CA, the `nats-mtls-server-tls` server certificate and an
 * `mqtt-client.<cluster>` client certificate. Module-internal: used by
 * `dsx-event-bus certs` and tests; not part of the construct API (and not
 * loaded by `require('cdk8s-dsx-event-bus')`).
 */
import { webcrypto } from 'crypto';
import type * as X509 from '@peculiar/x509';
import { canonicalIp, isIpLiteral } from './names';

let loaded: typeof X509 | undefined;
/** @peculiar/x509 on Node's WebCrypto, loaded on first use (it needs Reflect metadata first). */
function x509(): typeof X509 {
  if (!loaded) {
    // The Reflect metadata polyfill @peculiar/x509 (tsyringe) needs; loaded
    // here, not at package require(), so only certificate generation pays.
    /* eslint-disable @typescript-eslint/no-require-imports */
    require('reflect-metadata');
    loaded = require('@peculiar/x509') as typeof X509;
    /* eslint-enable @typescript-eslint/no-require-imports */
    loaded.cryptoProvider.set(webcrypto as any);
  }
  return loaded;
}

/** Key types the command can generate. */
export type EvaluationKeyType = 'ecdsa-p256' | 'rsa-2048';

/** What to generate for one cluster. */
export interface EvaluationCertsRequest {
  /** Cluster name: `csc` or `cpc-<id>`. */
  readonly cluster: string;
  /** Namespace of the chart (for the `nats-mtls` Service names). */
  readonly namespace: string;
  /** External DNS names and IPs of the mTLS listener. */
  readonly hosts: readonly string[];
  /** Validity of the server and client certificates, in days. */
  readonly days: number;
  readonly keyType: EvaluationKeyType;
  /** Clock, for tests. */
  readonly now?: Date;
}

/** Generated PEM files, keyed by path relative to `<cluster>/certs/`. */
export type EvaluationFiles = Record<string, string>;

/** The files of one cluster's `certs/` directory, in write order. */
export const EVALUATION_FILES = [
  'ca/ca.crt',
  'ca/ca.key',
  'nats-mtls-server-tls/ca.crt',
  'nats-mtls-server-tls/tls.crt',
  'nats-mtls-server-tls/tls.key',
  'mqtt-client/ca.crt',
  'mqtt-client/tls.crt',
  'mqtt-client/tls.key',
] as const;

/** SANs of the mTLS server certificate: the `nats-mtls` Service names, then the external hosts. */
export function evaluationServerSans(namespace: string, hosts: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = ['nats-mtls', `nats-mtls.${namespace}`, `nats-mtls.${namespace}.svc`, `nats-mtls.${namespace}.svc.cluster.local`];
  const ipAddresses: string[] = [];
  for (const h of hosts) {
    if (isIpLiteral(h)) {
      if (!ipAddresses.some((a) => canonicalIp(a) === canonicalIp(h))) ipAddresses.push(h.replace(/^\[|\]$/g, ''));
    } else if (!dnsNames.includes(h)) {
      dnsNames.push(h);
    }
  }
  return { dnsNames, ipAddresses };
}

/** Subject of the client certificate (the identity the chart's mTLS permissions name). */
export function evaluationClientSubject(cluster: string): string {
  return `CN=mqtt-client.${cluster}`;
}

function keyAlgorithm(keyType: EvaluationKeyType): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  return keyType === 'rsa-2048'
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: 'P-256' };
}

function signingAlgorithm(keyType: EvaluationKeyType): webcrypto.Algorithm | webcrypto.EcdsaParams {
  return keyType === 'rsa-2048' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as webcrypto.Algorithm : { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams;
}

async function newKeys(keyType: EvaluationKeyType): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(keyAlgorithm(keyType), true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509().PemConverter.encode(der, 'PRIVATE KEY');
}

function serial(): string {
  // Positive 128-bit serial (high bit clear), as RFC 5280 asks.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = 1 + (bytes[0] % 0x7f);
  return Buffer.from(bytes).toString('hex');
}

const DAY = 24 * 60 * 60 * 1000;

/** Generates one cluster's CA, server and client certificates. */
export async function generateEvaluationCerts(req: EvaluationCertsRequest): Promise<EvaluationFiles> {
  const x = x509();
  const now = req.now ?? new Date();
  // Backdated a little so a client with a slightly slow clock accepts the certificates at once.
  const notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  const signingAlg = signingAlgorithm(req.keyType);
  const rsa = req.keyType === 'rsa-2048';

  const caKeys = await newKeys(req.keyType);
  const caName = `CN=DSX Event Bus evaluation CA ${req.cluster}, O=DSX Event Bus`;
  const ca = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: caName,
    notBefore,
    notAfter: new Date(now.getTime() + 3650 * DAY),
    keys: caKeys,
    signingAlgorithm: signingAlg,
    extensions: [
      new x.BasicConstraintsExtension(true, 0, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign + x.KeyUsageFlags.cRLSign, true),
      await x.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const leaf = async (subject: string, usage: X509.ExtendedKeyUsage, sans?: { dnsNames: string[]; ipAddresses: string[] }) => {
    const keys = await newKeys(req.keyType);
    const extensions: X509.Extension[] = [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature + (rsa ? x.KeyUsageFlags.keyEncipherment : 0), true),
      new x.ExtendedKeyUsageExtension([usage]),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ];
    if (sans) {
      extensions.push(new x.SubjectAlternativeNameExtension([
        ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]));
    }
    const cert = await x.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: ca.subject,
      notBefore,
      notAfter: new Date(now.getTime() + req.days * DAY),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: signingAlg,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
  };

  const sans = evaluationServerSans(req.namespace, req.hosts);
  const server = await leaf(`CN=nats-mtls.${req.namespace}.svc.cluster.local`, x.ExtendedKeyUsage.serverAuth, sans);
  const client = await leaf(evaluationClientSubject(req.cluster), x.ExtendedKeyUsage.clientAuth);
  const caPem = ca.toString('pem');
  const files: EvaluationFiles = {
    'ca/ca.crt': caPem,
    'ca/ca.key': await privateKeyPem(caKeys.privateKey),
    'nats-mtls-server-tls/ca.crt': caPem,
    'nats-mtls-server-tls/tls.crt': server.cert,
    'nats-mtls-server-tls/tls.key': server.key,
    'mqtt-client/ca.crt': caPem,
    'mqtt-client/tls.crt': client.cert,
    'mqtt-client/tls.key': client.key,
  };
  for (const k of Object.keys(files)) files[k] = files[k].endsWith('\n') ? files[k] : `${files[k]}\n`;
  return files;
}

/** Subject and SANs of a PEM certificate (to compare an existing set with a request). */
export function describeCertificate(pem: string): { subject: string; dnsNames: string[]; ipAddresses: string[] } {
  const x = x509();
  const cert = new x.X509Certificate(pem);
  const san = cert.getExtension(x.SubjectAlternativeNameExtension);
  const items = san ? san.names.items : [];
  return {
    subject: cert.subject,
    dnsNames: items.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: items.filter((n) => n.type === 'ip').map((n) => n.value),
  };
}
