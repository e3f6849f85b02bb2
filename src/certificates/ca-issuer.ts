import * as crypto from 'crypto';
import { inspect } from 'util';
import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { EventBusError, problem, quote } from '../errors';
import { caSecretNamespace, issuerMetadata, issuerObject, IssuerKind, ICertificateIssuer, IssuerOptions } from './issuers';
import { parseCertificateBundle } from './pem-bundle';
import { readRegularFile } from '../files/safe-fs';
import { validateObjectName } from '../k8s/names';
import type { EventBusCluster } from '../secrets/cluster';
import { SecretsDelivery, SecretsDeliveryKind } from '../secrets/delivery';

/** Where a {@link CertificateAuthority} lives (library-internal: not exported from the package). */
export enum CertificateAuthorityKind {
  /** PEM given to the library; the Secret is emitted by the delivery strategy. */
  PEM = 'pem',
  /** A Secret that exists in the cluster; nothing is emitted. */
  EXISTING_SECRET = 'existingSecret',
  /** One cluster's intermediate CA, signed by the fleet root; the Secret holds it and the root's certificate. */
  INTERMEDIATE = 'intermediate',
}

// CA private keys get the seed treatment: held outside the object, so neither
// enumeration, JSON.stringify nor util.inspect of a CertificateAuthority can reach them.
const PRIVATE_KEYS = new WeakMap<CertificateAuthority, string>();

/**
 * A CA that signs the event bus certificates through a cert-manager CA issuer
 * (https://cert-manager.io/docs/configuration/ca/): the fleet's root, whose
 * certificate every cluster trusts, or one cluster's intermediate signed by
 * it ({@link CertificateAuthority.intermediateFromPem}).
 *
 * A self-signed root's key never enters a cluster: each cluster's CA issuer
 * signs with its own name-constrained intermediate, so no cluster can issue a
 * certificate another accepts for a third cluster's names. An intermediate's
 * key reaches the output only with `SecretsDelivery.inline()` (the user's
 * explicit choice); with every other delivery the CA Secret (`tls.crt`,
 * `tls.key`, `ca.crt`) comes from the strategy's store or exists already.
 * The private key is never enumerable, nor shown by `util.inspect` or
 * `JSON.stringify`.
 */
export class CertificateAuthority {
  /**
   * PEM text of the CA certificate and, for inline delivery, its private key.
   * Checked now: one CA certificate (basic constraints CA:true), and the key
   * belongs to it. The key is never echoed in an error.
   * @param certificatePem the CA certificate (`ca.crt`)
   * @param privateKeyPem its unencrypted private key (`ca.key`); needed only with `SecretsDelivery.inline()`
   */
  public static fromPem(certificatePem: string, privateKeyPem?: string): CertificateAuthority {
    const where = 'CertificateAuthority.fromPem';
    checkCa(certificatePem, privateKeyPem, where, { crt: 'certificatePem', key: 'privateKeyPem' });
    const key = privateKeyPem === undefined ? undefined : withNewline(privateKeyPem);
    return new CertificateAuthority(CertificateAuthorityKind.PEM, withNewline(certificatePem), undefined, key);
  }

  /**
   * One cluster's intermediate CA, signed by the fleet root (e.g.
   * `ca/clusters/<cluster>/tls.crt` and `tls.key` that `dsx-event-bus synth`
   * issues beside the root): its cluster's CA issuer signs with it, and its
   * Secret holds `tls.crt` (this certificate), `tls.key` and `ca.crt` (the
   * root). Checked now: a CA certificate, its key, issued and signed by the root.
   * @param certificatePem the intermediate's certificate
   * @param privateKeyPem its unencrypted private key
   * @param rootCertificatePem the fleet root's certificate that signed it (what clients trust)
   */
  public static intermediateFromPem(certificatePem: string, privateKeyPem: string, rootCertificatePem: string): CertificateAuthority {
    const where = 'CertificateAuthority.intermediateFromPem';
    checkCa(rootCertificatePem, undefined, where, { crt: 'rootCertificatePem', key: '' });
    checkCa(certificatePem, privateKeyPem, where, { crt: 'certificatePem', key: 'privateKeyPem' });
    const root = new crypto.X509Certificate(rootCertificatePem);
    const intermediate = new crypto.X509Certificate(certificatePem);
    if (!intermediate.checkIssued(root) || !intermediate.verify(root.publicKey)) {
      throw problem({
        where,
        problem: `certificatePem (${intermediate.subject.replace(/\n/g, ', ')}) is not signed by rootCertificatePem (${root.subject.replace(/\n/g, ', ')})`,
        fix: 'pass the intermediate that this root issued (dsx-event-bus synth issues one per cluster in <key store>/ca/clusters/)',
      });
    }
    const kind = CertificateAuthorityKind.INTERMEDIATE;
    return new CertificateAuthority(kind, withNewline(certificatePem), undefined, withNewline(privateKeyPem), withNewline(rootCertificatePem));
  }

  /**
   * PEM files of the CA, read now (e.g. `ca/ca.crt` and `ca/ca.key` written by
   * `dsx-event-bus certs`); checked like {@link fromPem}.
   * @param certFile the CA certificate file
   * @param keyFile its private key file; needed only with `SecretsDelivery.inline()`
   */
  public static fromPemFiles(certFile: string, keyFile?: string): CertificateAuthority {
    const where = 'CertificateAuthority.fromPemFiles';
    const crt = readPem(certFile, where, 'certFile');
    const key = keyFile === undefined ? undefined : readPem(keyFile, where, 'keyFile');
    checkCa(crt, key, where, { crt: `certFile ${quote(certFile)}`, key: `keyFile ${quote(keyFile)}` });
    return new CertificateAuthority(CertificateAuthorityKind.PEM, withNewline(crt), undefined, key === undefined ? undefined : withNewline(key));
  }

  /**
   * A Secret (keys `tls.crt`, `tls.key`) that exists in each cluster, in the
   * issuer's namespace (cert-manager's cluster resource namespace for a
   * ClusterIssuer).
   * @param secretName the Secret's name
   * @param certificatePem the CA certificate, when CPCs should trust it by default
   */
  public static fromExistingSecret(secretName: string, certificatePem?: string): CertificateAuthority {
    const where = 'CertificateAuthority.fromExistingSecret';
    validateObjectName(secretName, where, 'Secret name');
    if (certificatePem !== undefined) checkCa(certificatePem, undefined, where, { crt: 'certificatePem', key: '' });
    const crt = certificatePem === undefined ? undefined : withNewline(certificatePem);
    return new CertificateAuthority(CertificateAuthorityKind.EXISTING_SECRET, crt, secretName);
  }

  /** Where the CA lives: `pem` or `existingSecret`. */
  public readonly kind: string;
  /** The CA certificate (public), when known. */
  public readonly certificatePem?: string;
  /** The existing Secret (kind EXISTING_SECRET). */
  public readonly secretName?: string;
  /**
   * The root certificate clients trust for what this CA signs: the
   * certificate itself, or for an intermediate the root that signed it.
   */
  public readonly rootCertificatePem?: string;

  private constructor(
    kind: CertificateAuthorityKind, certificatePem?: string, secretName?: string, privateKeyPem?: string, rootCertificatePem?: string,
  ) {
    this.kind = kind;
    this.certificatePem = certificatePem;
    this.secretName = secretName;
    this.rootCertificatePem = rootCertificatePem ?? certificatePem;
    if (privateKeyPem !== undefined) PRIVATE_KEYS.set(this, privateKeyPem);
  }

  /** Whether the private key was given (kinds PEM and INTERMEDIATE). */
  public get hasPrivateKey(): boolean {
    return PRIVATE_KEYS.has(this);
  }

  /** Whether the certificate is self-signed (a root): its key must not enter a cluster. */
  public get isSelfSigned(): boolean {
    if (this.certificatePem === undefined) return false;
    const cert = new crypto.X509Certificate(this.certificatePem);
    return cert.checkIssued(cert);
  }

  /** The CA with its private key redacted. */
  public toJSON(): { [key: string]: any } {
    const privateKey = this.hasPrivateKey ? REDACTED_KEY : undefined;
    return { kind: this.kind, certificatePem: this.certificatePem, secretName: this.secretName, privateKey };
  }

  /**
   * The CA Secret's values, as cert-manager's CA issuer reads them: `tls.crt`
   * (the signing CA), `tls.key`, and `ca.crt` (the root clients trust).
   * @internal
   */
  public _secretValues(): Map<string, Buffer> {
    return new Map([
      ['tls.crt', Buffer.from(this.certificatePem!, 'utf8')],
      ['tls.key', Buffer.from(PRIVATE_KEYS.get(this)!, 'utf8')],
      ['ca.crt', Buffer.from(this.rootCertificatePem!, 'utf8')],
    ]);
  }
}

/** What inspect and JSON show instead of a CA private key. */
export const REDACTED_KEY = '<redacted private key>';

// util.inspect / console.log show the redacted form (defined outside the class
// so jsii does not see a symbol-named member).
Object.defineProperty(CertificateAuthority.prototype, inspect.custom, {
  value(this: CertificateAuthority) {
    return `CertificateAuthority ${inspect(this.toJSON())}`;
  },
});

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * The read discipline of src/files/safe-fs.ts: a regular file, opened
 * non-blocking (a FIFO is refused, never waited on), at most 1 MiB. A
 * private key is never read through a symbolic link (a link to another
 * file would be opened before being refused as a key); a certificate path
 * may be the user's link.
 */
function readPem(file: string, where: string, what: string): string {
  if (typeof file !== 'string' || file === '') throw problem({ where, problem: `${what} is empty`, fix: `pass the path of the PEM file as ${what}` });
  const fix = 'check the path (dsx-event-bus certs writes <output>/ca/ca.crt and ca.key)';
  let text: string | undefined;
  try {
    text = readRegularFile(file, what === 'keyFile' ? `pass the real path of the key file (a private key is never read through a symbolic link); ${fix}` : fix,
      { followNamed: what !== 'keyFile', what: 'a PEM file' });
  } catch (e) {
    if (e instanceof EventBusError) throw e;
    throw problem({ where, problem: `${what} ${quote(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix });
  }
  if (text === undefined) throw problem({ where, problem: `${what} ${quote(file)} cannot be read (ENOENT)`, fix });
  return text;
}

/** One CA certificate; the key, when given, is an unencrypted private key of that certificate. */
function checkCa(crtPem: string, keyPem: string | undefined, where: string, names: { crt: string; key: string }): void {
  const certs = parseCertificateBundle(crtPem, where, names.crt);
  if (certs.length !== 1) {
    throw problem({ where, problem: `${names.crt} holds ${certs.length} certificates`, allowed: 'exactly one: the CA certificate that signs', fix: 'pass only the CA certificate (the issuer signs with it and its key)' });
  }
  const ca = certs[0];
  if (!ca.ca) {
    throw problem({ where, problem: `${names.crt} (${ca.subject.replace(/\n/g, ', ')}) is not a CA certificate (basic constraints CA:FALSE or missing)`, fix: 'pass a CA certificate, e.g. ca/ca.crt written by `dsx-event-bus certs`' });
  }
  if (keyPem === undefined) return;
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(keyPem);
  } catch {
    throw problem({ where, problem: `${names.key} is not an unencrypted PEM private key`, allowed: 'PKCS#8 ("BEGIN PRIVATE KEY") or PKCS#1/SEC1 ("BEGIN RSA/EC PRIVATE KEY") without a passphrase', fix: 'export the key without encryption, e.g. `openssl pkey -in key.pem -out ca.key`' });
  }
  if (!ca.checkPrivateKey(key)) {
    throw problem({ where, problem: `${names.key} is not the private key of ${names.crt} (${ca.subject.replace(/\n/g, ', ')})`, fix: 'pass the certificate and key of the same CA' });
  }
}

/** Props of {@link CaIssuer}. */
export interface CaIssuerProps extends IssuerOptions {
  /** The CA that signs. */
  readonly ca: CertificateAuthority;
  /**
   * How the CA Secret reaches the cluster, like the other Secrets: `inline()`
   * puts the CA key into the manifest (needs the key), `externalSecrets()` and
   * `vaultStaticSecrets()` read `<prefix>/<cluster>/<secret>` (properties
   * `tls.crt`, `tls.key`), `existing()` emits nothing. Ignored for
   * `CertificateAuthority.fromExistingSecret`.
   */
  readonly delivery: SecretsDelivery;
  /**
   * The cluster, for the remote path of `externalSecrets()`/`vaultStaticSecrets()`.
   * @default - none: required by those two strategies
   */
  readonly cluster?: EventBusCluster;
  /**
   * Name of the CA Secret the library delivers.
   * @default "<name>-ca"
   */
  readonly secretName?: string;
  /**
   * For a `ClusterIssuer`: cert-manager's cluster resource namespace, where a
   * ClusterIssuer looks up its CA Secret.
   * @default "cert-manager"
   */
  readonly clusterResourceNamespace?: string;
}

/**
 * A cert-manager CA issuer (`spec.ca.secretName`) backed by a given CA, and
 * that CA's Secret delivered like the other Secrets. Every cluster of a fleet
 * can hold one with the same CA, so a CPC trusts the CSC gateway with the
 * CA certificate alone. Keep the CA key to clusters that issue certificates.
 */
export class CaIssuer extends Construct implements ICertificateIssuer {
  public readonly issuerName: string;
  public readonly issuerKind: IssuerKind;
  public readonly issuerNamespace?: string;
  /** Name of the Secret holding the CA certificate and key. */
  public readonly caSecretName: string;
  /** The CA. */
  public readonly ca: CertificateAuthority;

  constructor(scope: Construct, id: string, props: CaIssuerProps) {
    super(scope, id);
    const where = this.node.path;
    if (!(props.ca instanceof CertificateAuthority)) {
      throw problem({ where, problem: 'ca is not a CertificateAuthority', fix: 'use CertificateAuthority.fromPemFiles(…), .fromPem(…) or .fromExistingSecret(…)' });
    }
    const m = issuerMetadata(props.metadata, where);
    const name = m.name;
    const clusterScoped = props.clusterScoped ?? false;
    const secretNamespace = caSecretNamespace(clusterScoped, props.clusterResourceNamespace, m.namespace ?? Chart.of(this).namespace, where);
    this.ca = props.ca;
    this.issuerName = name;
    this.issuerKind = clusterScoped ? IssuerKind.CLUSTER_ISSUER : IssuerKind.ISSUER;
    this.issuerNamespace = clusterScoped ? undefined : (m.namespace ?? Chart.of(this).namespace);
    if (props.ca.kind === CertificateAuthorityKind.EXISTING_SECRET) {
      if (props.secretName !== undefined) {
        throw problem({ where, problem: 'secretName is set, but the CA is an existing Secret that names itself', fix: 'remove secretName, or name the Secret in CertificateAuthority.fromExistingSecret()' });
      }
      this.caSecretName = props.ca.secretName!;
    } else {
      this.caSecretName = props.secretName ?? `${name}-ca`;
      validateObjectName(this.caSecretName, where, 'secretName');
      this.deliverSecret(props, secretNamespace, m.labels, m.annotations ?? {}, where);
    }
    issuerObject(this, 'Resource', clusterScoped, name, m, { ca: { secretName: this.caSecretName } });
  }

  private deliverSecret(
    props: CaIssuerProps, namespace: string | undefined, labels: Record<string, string>, annotations: Record<string, string>, where: string,
  ): void {
    const kind = props.delivery?.kind;
    if (props.delivery?._needsValues && !props.ca.hasPrivateKey) {
      throw problem({
        where,
        problem: `the CA has no private key, and ${kind} delivery has no other source for the CA Secret`,
        fix: 'pass the CA key (CertificateAuthority.fromPemFiles(certFile, keyFile)), or deliver the CA Secret with externalSecrets()/vaultStaticSecrets()/existing()',
      });
    }
    if (kind === SecretsDeliveryKind.INLINE && props.ca.isSelfSigned) {
      throw problem({
        where,
        problem: 'the CA is a self-signed root, and inline delivery would put the root\'s private key into this cluster (whoever holds one cluster could then issue certificates every other cluster trusts)',
        allowed: 'an intermediate CA for this cluster, signed by the root: CertificateAuthority.intermediateFromPem(certificatePem, privateKeyPem, rootCertificatePem)',
        fix: 'give each cluster its own name-constrained intermediate (EventBusFleet: FleetClusterOptions.intermediateCa), or deliver the CA Secret with externalSecrets()/vaultStaticSecrets()/existing()',
      });
    }
    if ((kind === SecretsDeliveryKind.EXTERNAL_SECRETS || kind === SecretsDeliveryKind.VAULT_STATIC_SECRETS) && !props.cluster) {
      throw problem({ where, problem: `delivery ${kind} reads <prefix>/<cluster>/<secret>, but no cluster is given`, fix: 'pass cluster (EventBusCluster.csc() or .cpc(id))' });
    }
    if (kind === SecretsDeliveryKind.SEALED_SECRETS) {
      if (!props.cluster) throw problem({ where, problem: 'delivery sealedSecrets seals for one cluster\'s controller, but no cluster is given', fix: 'pass cluster (EventBusCluster.csc() or .cpc(id))' });
      props.delivery._checkCluster(props.cluster, namespace, where);
    }
    // Only inline() and sealedSecrets() use the values (in clear or sealed): with every other strategy the CA key stays out of the output.
    props.delivery._emit(this, {
      id: 'CaSecret',
      name: this.caSecretName,
      namespace,
      labels,
      annotations,
      immutable: false,
      cluster: props.cluster!,
      defaultName: this.caSecretName,
      keys: [{ defaultKey: 'tls.crt', key: 'tls.crt' }, { defaultKey: 'tls.key', key: 'tls.key' }, { defaultKey: 'ca.crt', key: 'ca.crt' }],
      material: 'tls-private-key',
      values: () => props.ca._secretValues(),
    });
  }
}
