/**
 * Test certificates for the stand-ins: a CA, and server or client
 * certificates it issues with exactly the SANs the caller names.
 *
 * Stands for: cert-manager issuing the library's Certificates (a CA Issuer
 * signing a `Certificate` with `dnsNames` / `ipAddresses`). It does not read
 * Certificate objects, renew, or write Secrets: the caller passes the SANs it
 * read from the library's Certificate and gets PEM strings back.
 *
 * const ca = await createTestCa('fleet CA');
 * const server = await ca.issue({ dnsNames: ['nats.example.com'], ipAddresses: ['127.0.0.1'] });
 * // server.cert, server.key (PEM), ca.cert (PEM)
 * const gateway = await issueForCertificate(ca, certificateObject); // from a synthesized Certificate
 */
import { webcrypto, X509Certificate } from 'crypto';
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs it loaded first
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as any);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 24 * 60 * 60 * 1000;

/** A key pair and certificate, both PEM. */
export interface TestKeyPair {
  /** Certificate (PEM). */
  readonly cert: string;
  /** PKCS#8 private key (PEM). */
  readonly key: string;
}

/** What a CA issues. */
export interface IssueOptions {
  /** Subject common name. @default the first DNS name, else the first IP, else "test" */
  readonly commonName?: string;
  /** DNS SANs, exactly as given. @default none */
  readonly dnsNames?: readonly string[];
  /** IP SANs, exactly as given. @default none */
  readonly ipAddresses?: readonly string[];
  /** `server` (serverAuth) or `client` (clientAuth). @default 'server' */
  readonly usage?: 'server' | 'client';
  /** Validity in days from now (backdated 5 minutes). @default 30 */
  readonly days?: number;
}

/** A CA that issues certificates. */
export interface TestCa {
  /** The CA certificate (PEM): what clients put in their trust store. */
  readonly cert: string;
  /** The CA's private key (PEM). */
  readonly key: string;
  /** Issues a certificate signed by this CA. */
  issue(options: IssueOptions): Promise<TestKeyPair>;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = 1 + (bytes[0] % 0x7f); // positive, non-zero (RFC 5280)
  return Buffer.from(bytes).toString('hex');
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')}\n`;
}

/** A self-signed ECDSA P-256 CA named `CN=<name>`. */
export async function createTestCa(name: string): Promise<TestCa> {
  const now = Date.now();
  const caKeys = await newKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 5 * 60 * 1000),
    notAfter: new Date(now + 365 * DAY),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign + x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const issue = async (options: IssueOptions): Promise<TestKeyPair> => {
    const dnsNames = options.dnsNames ?? [];
    const ipAddresses = options.ipAddresses ?? [];
    const commonName = options.commonName ?? dnsNames[0] ?? ipAddresses[0] ?? 'test';
    const keys = await newKeys();
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([options.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ];
    if (dnsNames.length + ipAddresses.length > 0) {
      extensions.push(new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]));
    }
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${commonName}`,
      issuer: ca.subject,
      notBefore: new Date(now - 5 * 60 * 1000),
      notAfter: new Date(Date.now() + (options.days ?? 30) * DAY),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions,
    });
    return { cert: `${cert.toString('pem')}\n`, key: await keyPem(keys.privateKey) };
  };

  return { cert: `${ca.toString('pem')}\n`, key: await keyPem(caKeys.privateKey), issue };
}

/** The SANs of a PEM certificate, as Node reads them (for asserting "exactly these SANs"). */
export function subjectAltNames(pem: string): { dnsNames: string[]; ipAddresses: string[] } {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  const parts = san === '' ? [] : san.split(', ');
  return {
    dnsNames: parts.filter((p) => p.startsWith('DNS:')).map((p) => p.slice(4)),
    ipAddresses: parts.filter((p) => p.startsWith('IP Address:')).map((p) => p.slice(11)),
  };
}

/** A cert-manager Certificate object (the parts `issueForCertificate` reads). */
export interface CertificateObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly secretName?: string;
    readonly commonName?: string;
    readonly dnsNames?: readonly string[];
    readonly ipAddresses?: readonly string[];
    readonly usages?: readonly string[];
  };
}

/**
 * What cert-manager's CA Issuer would put in the Certificate's Secret: a
 * certificate from `ca` with exactly the Certificate's `commonName`,
 * `dnsNames` and `ipAddresses` (client usage when `usages` has `client auth`
 * and not `server auth`). Durations, key algorithm and renewal are not modelled.
 */
export async function issueForCertificate(ca: TestCa, certificate: CertificateObject): Promise<TestKeyPair & { readonly secretName: string }> {
  if (certificate.apiVersion !== 'cert-manager.io/v1' || certificate.kind !== 'Certificate' || !certificate.spec?.secretName) {
    throw new Error(`expected a cert-manager.io/v1 Certificate with spec.secretName, got ${certificate.apiVersion ?? '?'} ${certificate.kind ?? '?'} ${certificate.metadata?.name ?? ''}. Fix: pass a Certificate object of the synthesized manifests`);
  }
  const { spec } = certificate;
  const usages = spec.usages ?? [];
  const pair = await ca.issue({
    commonName: spec.commonName,
    dnsNames: spec.dnsNames ?? [],
    ipAddresses: spec.ipAddresses ?? [],
    usage: usages.includes('client auth') && !usages.includes('server auth') ? 'client' : 'server',
  });
  return { ...pair, secretName: spec.secretName! };
}
