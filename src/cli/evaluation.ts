/**
 * Evaluation certificates, generated with @peculiar/x509 on Node's WebCrypto
 * (no cfssl, no hand-written ASN.1): one CA for the whole fleet, and per
 * cluster the `nats-mtls-server-tls` server certificate and an
 * `mqtt-client.<cluster>` client certificate it signs. Module-internal: used by
 * `dsx-event-bus certs` and tests; not part of the construct API (and not
 * loaded by `require('cdk8s-dsx-event-bus')`).
 */
import { createPrivateKey, webcrypto } from 'crypto';
import type * as X509 from '@peculiar/x509';
import { constraintNames, IntermediateNames, NAME_CONSTRAINTS_OID } from '../certificates/name-constraints';
import { problem } from '../errors';
import { canonicalIp, isIpLiteral } from '../k8s/names';

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
  /** The fleet CA that signs (see {@link generateEvaluationCa}). */
  readonly ca: EvaluationCa;
}

/** The fleet's evaluation CA, PEM. */
export interface EvaluationCa {
  /** The CA certificate (`ca.crt`). */
  readonly certPem: string;
  /** Its private key, PKCS#8 (`ca.key`). */
  readonly keyPem: string;
}

/** Files of the fleet CA directory (`<output>/ca/`). */
export const FLEET_CA_FILES = ['ca.crt', 'ca.key'] as const;

/** Generated PEM files, keyed by path relative to `<cluster>/certs/`. */
export type EvaluationFiles = Record<string, string>;

/** The files of one cluster's `certs/` directory, in write order. */
export const EVALUATION_FILES = [
  'ca/ca.crt',
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

/**
 * Generates the fleet's evaluation CA (ten years): it signs the certificates
 * of every cluster, by `dsx-event-bus certs` and by each cluster's
 * cert-manager CA issuer, so every cluster trusts every other one.
 */
export async function generateEvaluationCa(keyType: EvaluationKeyType, now: Date = new Date()): Promise<EvaluationCa> {
  const x = x509();
  const caKeys = await newKeys(keyType);
  const ca = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=DSX Event Bus evaluation fleet CA, O=DSX Event Bus',
    notBefore: new Date(now.getTime() - 5 * 60 * 1000),
    notAfter: new Date(now.getTime() + 3650 * DAY),
    keys: caKeys,
    signingAlgorithm: signingAlgorithm(keyType),
    extensions: [
      // Path length 1: the root signs one level of per-cluster intermediates (pathlen 0), which sign the leaves.
      new x.BasicConstraintsExtension(true, 1, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign + x.KeyUsageFlags.cRLSign, true),
      await x.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const nl = (t: string) => (t.endsWith('\n') ? t : `${t}\n`);
  return { certPem: nl(ca.toString('pem')), keyPem: nl(await privateKeyPem(caKeys.privateKey)) };
}

/** The CA's certificate and signing key on WebCrypto, and the signature algorithm its key type needs. */
async function loadCa(ca: EvaluationCa): Promise<{ cert: X509.X509Certificate; key: webcrypto.CryptoKey; alg: webcrypto.Algorithm }> {
  const x = x509();
  const cert = new x.X509Certificate(ca.certPem);
  const type: EvaluationKeyType = createPrivateKey(ca.keyPem).asymmetricKeyType === 'rsa' ? 'rsa-2048' : 'ecdsa-p256';
  const der = x.PemConverter.decode(ca.keyPem)[0];
  const key = await webcrypto.subtle.importKey('pkcs8', der, keyAlgorithm(type) as webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams, true, ['sign']);
  return { cert, key, alg: signingAlgorithm(type) };
}

/** Generates one cluster's server and client certificates, signed by the fleet CA. */
export async function generateEvaluationCerts(req: EvaluationCertsRequest): Promise<EvaluationFiles> {
  const x = x509();
  const now = req.now ?? new Date();
  // Backdated a little so a client with a slightly slow clock accepts the certificates at once.
  const notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  const rsa = req.keyType === 'rsa-2048';
  const ca = await loadCa(req.ca);
  const signingAlg = ca.alg;

  const leaf = async (subject: string, usage: X509.ExtendedKeyUsage, sans?: { dnsNames: string[]; ipAddresses: string[] }) => {
    const keys = await newKeys(req.keyType);
    const extensions: X509.Extension[] = [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature + (rsa ? x.KeyUsageFlags.keyEncipherment : 0), true),
      new x.ExtendedKeyUsageExtension([usage]),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
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
      issuer: ca.cert.subject,
      notBefore,
      notAfter: new Date(now.getTime() + req.days * DAY),
      publicKey: keys.publicKey,
      signingKey: ca.key,
      signingAlgorithm: signingAlg,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
  };

  const sans = evaluationServerSans(req.namespace, req.hosts);
  const server = await leaf(`CN=nats-mtls.${req.namespace}.svc.cluster.local`, x.ExtendedKeyUsage.serverAuth, sans);
  const client = await leaf(evaluationClientSubject(req.cluster), x.ExtendedKeyUsage.clientAuth);
  const caPem = req.ca.certPem;
  const files: EvaluationFiles = {
    'ca/ca.crt': caPem,
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


/** What to issue for one cluster (see {@link generateClusterIntermediate}). */
export interface IntermediateRequest extends IntermediateNames {
  /** The fleet root that signs (its key is needed here, and only here). */
  readonly root: EvaluationCa;
  /** Validity in days (capped at the root's end). */
  readonly days?: number;
  /** Clock, for tests. */
  readonly now?: Date;
}

/** Default lifetime of a cluster's intermediate CA. */
export const INTERMEDIATE_DAYS = 730;
/** An intermediate with fewer days left than this is reissued. */
export const INTERMEDIATE_RENEW_DAYS = 180;


/** The X.509 name constraints extension (RFC 5280 4.2.1.10), DER, built with @peculiar/asn1-x509. */
function nameConstraintsDer(names: IntermediateNames): ArrayBuffer {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const asn = require('@peculiar/asn1-x509') as typeof import('@peculiar/asn1-x509');
  const { AsnConvert } = require('@peculiar/asn1-schema') as typeof import('@peculiar/asn1-schema');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { dnsNames, ipAddresses } = constraintNames(names);
  const subtree = (g: Partial<import('@peculiar/asn1-x509').GeneralName>) => new asn.GeneralSubtree({ base: new asn.GeneralName(g) });
  // A list without DNS entries would leave DNS names unconstrained (RFC 5280):
  // a cluster with none permits only the reserved name "invalid" (RFC 6761).
  const permitted = [
    ...(dnsNames.length ? dnsNames : ['invalid']).map((d) => subtree({ dNSName: d })),
    ...ipAddresses.map((ip) => subtree({ iPAddress: `${ip}/${ip.includes(':') ? 128 : 32}` })),
  ];
  // Likewise for IPs: a cluster without IP addresses excludes every IPv4 and IPv6 address.
  const excluded = ipAddresses.length ? [] : [subtree({ iPAddress: '0.0.0.0/0' }), subtree({ iPAddress: '::/0' })];
  return AsnConvert.serialize(new asn.NameConstraints({
    permittedSubtrees: new asn.GeneralSubtrees(permitted),
    excludedSubtrees: excluded.length ? new asn.GeneralSubtrees(excluded) : undefined,
  }));
}

/**
 * One cluster's intermediate CA, signed by the fleet root: basic constraints
 * CA:true with path length 0, key usage keyCertSign + cRLSign, and name
 * constraints that permit only that cluster's names. The cluster's
 * cert-manager CA issuer signs with it, so whoever holds one cluster cannot
 * issue a certificate another cluster accepts for a name of a third.
 */
export async function generateClusterIntermediate(req: IntermediateRequest): Promise<EvaluationCa> {
  const x = x509();
  const now = req.now ?? new Date();
  const root = await loadCa(req.root);
  if (root.cert.getExtension(x.BasicConstraintsExtension)?.pathLength === 0) {
    throw problem({
      where: 'the fleet CA',
      problem: `the root (${root.cert.subject}) has path length 0, so no intermediate it signs would verify (a root of an earlier version of dsx-event-bus certs)`,
      allowed: 'a root without a path length limit, or with path length 1 or more',
      fix: 'make a new fleet root: delete the CA folder (<key store>/ca) and run synth --generate-missing or dsx-event-bus certs; every cluster then trusts the new root',
    });
  }
  const keyType: EvaluationKeyType = root.alg.name === 'ECDSA' ? 'ecdsa-p256' : 'rsa-2048';
  const keys = await newKeys(keyType);
  const notAfter = new Date(Math.min(now.getTime() + (req.days ?? INTERMEDIATE_DAYS) * DAY, root.cert.notAfter.getTime()));
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=DSX Event Bus ${req.cluster} intermediate CA, O=DSX Event Bus`,
    issuer: root.cert.subject,
    notBefore: new Date(now.getTime() - 5 * 60 * 1000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: root.key,
    signingAlgorithm: root.alg,
    extensions: [
      new x.BasicConstraintsExtension(true, 0, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign + x.KeyUsageFlags.cRLSign, true),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x.AuthorityKeyIdentifierExtension.create(root.cert.publicKey),
      new x.Extension(NAME_CONSTRAINTS_OID, true, nameConstraintsDer(req)),
    ],
  });
  const nl = (t: string) => (t.endsWith('\n') ? t : `${t}\n`);
  return { certPem: nl(cert.toString('pem')), keyPem: nl(await privateKeyPem(keys.privateKey)) };
}
