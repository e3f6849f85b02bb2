/**
 * Stand-in for cert-manager's CA issuer (https://cert-manager.io/docs/configuration/ca/)
 * issuing one of the library's `Certificate` objects.
 *
 * What it does, as cert-manager does: follows the Certificate's `issuerRef`
 * to the library's Issuer, requires it to be a CA issuer (`spec.ca.secretName`),
 * reads that Secret's `tls.crt`/`tls.key`/`ca.crt` from the cluster's objects
 * (the cluster's own intermediate CA and the fleet root), and signs with the
 * intermediate a certificate with exactly the Certificate's `commonName`,
 * `dnsNames` and `ipAddresses`, a fresh key of its `privateKey` algorithm
 * (ECDSA P-256/P-384 or RSA of its size) and the server-auth usage. The
 * result is what cert-manager writes to `spec.secretName`: `tls.crt` (the
 * certificate followed by the signing CA's chain, i.e. the intermediate),
 * `tls.key`, and `ca.crt` (the CA Secret's `ca.crt`, the root; its `tls.crt`
 * when it has none). The same signing serves the name-constraint tests to
 * issue what a rogue holder of one cluster's CA Secret could
 * ({@link issueFromCaSecret}).
 *
 * What it does not do: no other issuer types (self-signed, ACME, Vault: they
 * fail by name), no renewal, no `duration` beyond a fixed day, no
 * CertificateRequest objects, no status, no keystores.
 */
import { webcrypto, createPrivateKey } from 'crypto';
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs it loaded first
import * as x509 from '@peculiar/x509';
import type { ClusterObjects } from './fleet';

x509.cryptoProvider.set(webcrypto as any);

/** The Secret cert-manager would write for the Certificate. */
export interface IssuedCertificate {
  readonly 'tls.crt': string;
  readonly 'tls.key': string;
  readonly 'ca.crt': string;
  readonly 'sans': { dnsNames: string[]; ipAddresses: string[] };
}

function algorithmOf(spec: any): { gen: object; sign: object } {
  const pk = spec.privateKey ?? {};
  if ((pk.algorithm ?? 'RSA') === 'RSA') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: pk.size ?? 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    return { gen: alg, sign: alg };
  }
  if (pk.algorithm === 'ECDSA') {
    const curve = pk.size === 384 ? 'P-384' : 'P-256';
    return { gen: { name: 'ECDSA', namedCurve: curve }, sign: { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' } };
  }
  throw new Error(`Certificate privateKey.algorithm ${pk.algorithm} is not supported by the cert-manager stand-in`);
}

async function importCaKey(keyPem: string): Promise<{ key: webcrypto.CryptoKey; sign: any }> {
  const ko = createPrivateKey(keyPem);
  const der = ko.export({ format: 'der', type: 'pkcs8' });
  if (ko.asymmetricKeyType === 'ec') {
    const curve = ko.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
    const alg = { name: 'ECDSA', namedCurve: curve };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']), sign: { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' } };
  }
  if (ko.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']), sign: alg };
  }
  throw new Error(`CA key type ${ko.asymmetricKeyType} is not supported by the cert-manager stand-in`);
}

/** Issues the library Certificate that writes Secret `secretName`, through its CA issuer. */
export async function issueCertificate(objects: ClusterObjects, secretName: string): Promise<IssuedCertificate> {
  const cert = objects.all().find((o) => o.kind === 'Certificate' && o.spec.secretName === secretName);
  if (!cert) throw new Error(`${objects.cluster}: no library Certificate writes Secret ${secretName}`);
  const ref = cert.spec.issuerRef;
  const issuer = objects.find(ref.kind ?? 'Issuer', ref.name);
  if (!issuer) throw new Error(`${objects.cluster}: Certificate ${cert.metadata.name} names ${ref.kind ?? 'Issuer'}/${ref.name}, which the library does not produce`);
  const caSecret = issuer.spec?.ca?.secretName;
  if (!caSecret) throw new Error(`${objects.cluster}: ${issuer.kind}/${issuer.metadata.name} is not a CA issuer (${Object.keys(issuer.spec ?? {}).join(', ')}); the stand-in issues from CA issuers only`);
  const ca = objects.data('Secret', caSecret, `${issuer.kind}/${issuer.metadata.name}`);
  if (!ca['tls.crt'] || !ca['tls.key']) throw new Error(`${objects.cluster}: CA Secret ${caSecret} has no tls.crt/tls.key`);

  return issueFromCaSecret(ca, cert.spec, 'server');
}

/**
 * Signs as cert-manager's CA issuer would with the CA Secret `ca` (`tls.crt`,
 * `tls.key`, optional `ca.crt`) for a Certificate `spec` (`commonName`,
 * `dnsNames`, `ipAddresses`, `privateKey`), with the server- or client-auth usage.
 */
export async function issueFromCaSecret(ca: Record<string, string>, spec: any, usage: 'server' | 'client'): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca['tls.crt']);
  const signer = await importCaKey(ca['tls.key']);
  const { gen } = algorithmOf(spec);
  const keys = (await webcrypto.subtle.generateKey(gen as any, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const sans = { dnsNames: [...(spec.dnsNames ?? [])], ipAddresses: [...(spec.ipAddresses ?? [])] };
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = 1 + (serial[0] % 0x7f);
  const now = Date.now();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: `CN=${spec.commonName ?? sans.dnsNames[0] ?? sans.ipAddresses[0]}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(now + 24 * 60 * 60 * 1000),
    publicKey: keys.publicKey,
    signingKey: signer.key,
    signingAlgorithm: signer.sign,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature + x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const keyPem = `${x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY')}\n`;
  // tls.crt carries the signing CA after the certificate when the CA is not the root clients trust.
  const chain = ca['ca.crt'] && ca['ca.crt'].trim() !== ca['tls.crt'].trim() ? ca['tls.crt'] : '';
  return { 'tls.crt': `${leaf.toString('pem')}\n${chain}`, 'tls.key': keyPem, 'ca.crt': ca['ca.crt'] ?? ca['tls.crt'], sans };
}

/**
 * The Secrets cert-manager would write for every library Certificate whose
 * `spec.secretName` nothing else produces (e.g. `nats-mtls-server-tls` when
 * the fleet issues it through `certificates`), so pods that mount them can
 * start; each issued as issueCertificate() does.
 */
export async function issuedSecrets(objects: ClusterObjects): Promise<any[]> {
  const certificates = objects.all().filter((o) => o.kind === 'Certificate' && !objects.find('Secret', o.spec.secretName));
  return Promise.all(certificates.map(async (c) => {
    const { sans: _sans, ...data } = await issueCertificate(objects, c.spec.secretName);
    return { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: c.spec.secretName, namespace: c.metadata.namespace }, stringData: data };
  }));
}
