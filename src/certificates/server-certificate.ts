import { ApiObject, ApiObjectMetadata, Chart, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { problem, quote } from '../errors';
import { resolveMetadata } from '../labels';
import { certificatesModule } from './bindings';
import { ICertificateIssuer, IssuerKind } from './issuers';
import { certificatePrivateKey, goDuration, isRsa, PrivateKeyAlgorithm, validateDurations, validatePrivateKeyAlgorithm } from './private-key';
import type { CertificateSpec } from '../imports/cm-certificates-cert-manager.io';
import { canonicalIp, isIpLiteral, validateDnsName, validateNamespace, validateObjectName } from '../k8s/names';
import { MTLS_SERVER_TLS } from '../keys/catalogue';
import { existingTlsSecret, ITlsSecretSource } from '../secrets/tls-secret';

/** Key usages of a server certificate (cert-manager `spec.usages`). */
export enum CertificateUsage {
  /** TLS server authentication (extended key usage). */
  SERVER_AUTH = 'server auth',
  /** TLS client authentication (extended key usage). */
  CLIENT_AUTH = 'client auth',
  /** Digital signature (key usage). */
  DIGITAL_SIGNATURE = 'digital signature',
  /** Key encipherment (key usage; meaningful for RSA keys). */
  KEY_ENCIPHERMENT = 'key encipherment',
}

/** Options of a server certificate other than its name, SANs and issuer. */
export interface ServerCertificateOptions {
  /**
   * Metadata of the Certificate: name, namespace (also of its Secret),
   * labels, annotations. The standard labels (`app.kubernetes.io/part-of`,
   * `managed-by`, `component: certificates`) are always added.
   * @default - the class's default name, the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
  /**
   * Lifetime of each issued certificate.
   * @default Duration.days(90)
   */
  readonly duration?: Duration;
  /**
   * How long before expiry cert-manager renews.
   * @default Duration.days(30)
   */
  readonly renewBefore?: Duration;
  /**
   * Key algorithm and size. A new key is generated on every renewal
   * (`rotationPolicy: Always`).
   * @default PrivateKeyAlgorithm.RSA_2048
   */
  readonly privateKey?: PrivateKeyAlgorithm;
  /**
   * Key usages.
   * @default - server auth and digital signature, plus key encipherment for RSA keys
   */
  readonly usages?: CertificateUsage[];
}

/** Props of {@link ServerCertificate}. */
export interface ServerCertificateProps extends ServerCertificateOptions {
  /** Issuer that signs the certificate. */
  readonly issuer: ICertificateIssuer;
  /**
   * Name of the Secret cert-manager writes (`tls.crt`, `tls.key`, `ca.crt`).
   * @default - the Certificate's name
   */
  readonly secretName?: string;
  /**
   * DNS names (SANs) clients use to reach the server. IP addresses go to
   * `ipAddresses`, never here.
   * @default - none (add with `addDnsName`)
   */
  readonly dnsNames?: string[];
  /**
   * IP addresses (SANs) clients use to reach the server.
   * @default - none (add with `addIpAddress`)
   */
  readonly ipAddresses?: string[];
  /**
   * Subject common name (at most 64 characters). Clients check the SANs, not the CN.
   * @default - the first DNS name, else none
   */
  readonly commonName?: string;
}

/**
 * A cert-manager `Certificate` (cert-manager.io/v1) for a TLS server: the
 * Gateway's TLS-terminate listeners ([pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#server-tls-certificate):
 * `event-bus-server-tls-certificate`) or the mTLS NATS server.
 *
 * It is an `ITlsSecretSource`: a listener given this certificate references
 * exactly the Secret cert-manager writes (`secretName`), so the two names
 * cannot drift apart. The private key is rotated on every renewal
 * (`rotationPolicy: Always`).
 */
export class ServerCertificate extends Construct implements ITlsSecretSource {
  /**
   * A TLS Secret (`tls.crt`, `tls.key`, `ca.crt`) provisioned elsewhere (a
   * secrets pipeline, `kubectl create secret tls`, another chart), referenced
   * by name wherever a `ServerCertificate` is accepted (a TLS-terminate
   * listener, `MtlsServerTls.fromTlsSecretSource`). Nothing is emitted for it.
   * @param scope the construct scope (nothing is synthesized for it)
   * @param id construct id
   * @param name the Secret's name
   * @param namespace its namespace, when it is not the consumer's namespace
   */
  public static fromSecretName(scope: Construct, id: string, name: string, namespace?: string): ITlsSecretSource {
    return new ImportedTlsSecret(scope, id, existingTlsSecret(name, namespace, 'ServerCertificate.fromSecretName()'));
  }

  /** The Certificate's name (default "event-bus-server-tls-certificate", the name in upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#server-tls-certificate)). */
  public readonly name: string;
  /** Secret cert-manager writes: `tls.crt`, `tls.key`, `ca.crt`. */
  public readonly tlsSecretName: string;
  /** Namespace of the Certificate and its Secret, when known. */
  public readonly tlsSecretNamespace?: string;
  /** The signing issuer. */
  public readonly issuer: ICertificateIssuer;
  /** The generated cert-manager object. */
  public readonly resource: ApiObject;

  private readonly _dnsNames: string[] = [];
  private readonly _ipAddresses: string[] = [];

  constructor(scope: Construct, id: string, props: ServerCertificateProps) {
    super(scope, id);
    const where = this.node.path;
    const metadata = resolveMetadata(props.metadata, 'certificates', 'event-bus-server-tls-certificate', where, 'Certificate name');
    this.name = metadata.name;
    this.tlsSecretName = props.secretName ?? this.name;
    validateObjectName(this.tlsSecretName, where, 'secretName');
    this.tlsSecretNamespace = metadata.namespace ?? Chart.of(this).namespace;
    this.issuer = props.issuer;
    if (!props.issuer || !props.issuer.issuerName) {
      throw problem({ where, problem: 'issuer is missing', fix: 'pass an issuer: CertificateIssuer.fromIssuerName(...), a SelfSignedCaIssuer or a VaultIssuer' });
    }
    if (props.issuer.issuerKind === IssuerKind.ISSUER && props.issuer.issuerNamespace !== undefined
      && this.tlsSecretNamespace !== undefined && props.issuer.issuerNamespace !== this.tlsSecretNamespace) {
      throw problem({
        where,
        problem: `Issuer ${quote(props.issuer.issuerName)} is in namespace ${quote(props.issuer.issuerNamespace)} but the Certificate is in ${quote(this.tlsSecretNamespace)}`,
        allowed: 'a namespaced Issuer signs Certificates of its own namespace only',
        fix: 'create the Certificate in the Issuer\'s namespace, or use a ClusterIssuer',
      });
    }
    const duration = props.duration ?? Duration.days(90);
    const renewBefore = props.renewBefore ?? Duration.days(30);
    validateDurations(where, duration, renewBefore);
    const key = props.privateKey ?? PrivateKeyAlgorithm.RSA_2048;
    validatePrivateKeyAlgorithm(key, where);
    const usages = props.usages ?? [
      CertificateUsage.SERVER_AUTH,
      CertificateUsage.DIGITAL_SIGNATURE,
      ...(isRsa(key) ? [CertificateUsage.KEY_ENCIPHERMENT] : []),
    ];
    if (props.commonName !== undefined && (props.commonName.length === 0 || props.commonName.length > 64)) {
      throw problem({ where, problem: `commonName ${quote(props.commonName)} has ${props.commonName.length} characters`, allowed: '1 to 64 characters (X.509 upper bound)', fix: 'shorten it; clients check the DNS SANs anyway' });
    }
    for (const n of props.dnsNames ?? []) this.addDnsName(n);
    for (const ip of props.ipAddresses ?? []) this.addIpAddress(ip);

    this.node.addValidation({
      validate: () => this._dnsNames.length + this._ipAddresses.length === 0
        ? ['the certificate has no subject alternative names. Allowed: at least one DNS name or IP address. Fix: pass dnsNames/ipAddresses or call addDnsName()/addIpAddress().']
        : [],
    });

    const { Certificate } = certificatesModule();
    const spec = (): CertificateSpec => ({
      secretName: this.tlsSecretName,
      issuerRef: { group: 'cert-manager.io', kind: this.issuer.issuerKind, name: this.issuer.issuerName },
      // cert-manager refuses a commonName over 64 characters (X.509 ub-common-name); the SANs carry the names anyway.
      commonName: props.commonName ?? this._dnsNames.find((n) => !n.startsWith('*') && n.length <= 64),
      dnsNames: this._dnsNames.length ? [...this._dnsNames] : undefined,
      ipAddresses: this._ipAddresses.length ? [...this._ipAddresses] : undefined,
      duration: goDuration(duration),
      renewBefore: goDuration(renewBefore),
      privateKey: certificatePrivateKey(key, 'Always'),
      usages: usages as any,
    });
    this.resource = new Certificate(this, 'Resource', {
      metadata: { name: this.name, namespace: metadata.namespace, labels: metadata.labels, annotations: metadata.annotations },
      spec: Lazy.any({ produce: spec }),
    });
  }

  /** DNS SANs, in the order added. */
  public get dnsNames(): string[] {
    return [...this._dnsNames];
  }

  /** IP SANs, in the order added. */
  public get ipAddresses(): string[] {
    return [...this._ipAddresses];
  }

  /** Adds a DNS SAN (e.g. `event-bus.example.com` or `*.example.com`). An IP address is refused: use `addIpAddress`. */
  public addDnsName(name: string): void {
    if (typeof name === 'string' && isIpLiteral(name)) {
      throw problem({
        where: this.node.path,
        problem: `${quote(name)} is an IP address, not a DNS name`,
        allowed: 'DNS names in dnsNames; IP addresses in ipAddresses (clients match an IP only against IP SANs)',
        fix: `pass it in ipAddresses (or call addIpAddress(${quote(name)}))`,
      });
    }
    validateDnsName(name, this.node.path, 'DNS SAN', { wildcard: true });
    if (!this._dnsNames.includes(name)) this._dnsNames.push(name);
  }

  /** Adds an IP SAN (IPv4 or IPv6). */
  public addIpAddress(ip: string): void {
    if (typeof ip !== 'string' || !isIpLiteral(ip)) {
      throw problem({
        where: this.node.path,
        problem: `${quote(ip)} is not an IP address`,
        allowed: 'IPv4 or IPv6 literals in ipAddresses; DNS names in dnsNames',
        fix: `pass it in dnsNames (or call addDnsName(${quote(ip)}))`,
      });
    }
    const canonical = canonicalIp(ip);
    if (!this._ipAddresses.some((a) => canonicalIp(a) === canonical)) this._ipAddresses.push(ip.replace(/^\[|\]$/g, ''));
  }

  /** Adds a SAN that may be a DNS name or an IP address; each goes to its own list. */
  public addSubjectAlternativeName(hostOrIp: string): void {
    if (typeof hostOrIp === 'string' && isIpLiteral(hostOrIp)) this.addIpAddress(hostOrIp);
    else this.addDnsName(hostOrIp);
  }
}

/** Props of {@link MtlsServerCertificate}. */
export interface MtlsServerCertificateProps extends ServerCertificateOptions {
  /** Issuer that signs the certificate. Its CA also verifies client certificates (`ca.crt`). */
  readonly issuer: ICertificateIssuer;
  /**
   * Host names and/or IP addresses mTLS clients connect to (the gateway's
   * `mqtt-mtls` listener). IPs become `ipAddresses`, names `dnsNames`.
   */
  readonly externalHostnames: string[];
  /**
   * Kubernetes cluster domain of the in-cluster service names.
   * @default "cluster.local"
   */
  readonly clusterDomain?: string;
}

/** Service of the chart's mTLS NATS cluster (`nats-mtls` subchart, fullnameOverride). */
const MTLS_SERVICE = 'nats-mtls';

/**
 * The mTLS NATS server certificate the upstream chart expects but does not
 * create (Certificate name, unless `metadata.name` says otherwise:
 * `nats-mtls-server-tls`): Secret `nats-mtls-server-tls` (keys `ca.crt`, `tls.crt`, `tls.key`)
 * with SANs for the `nats-mtls` Service (`nats-mtls`, `nats-mtls.<ns>`,
 * `nats-mtls.<ns>.svc`, `nats-mtls.<ns>.svc.<cluster domain>`) and the
 * external names clients use through the passthrough listener.
 *
 * The mTLS server verifies client certificates against `ca.crt`, which
 * cert-manager fills with the issuer's CA: use a CA-backed issuer (CA,
 * Vault/OpenBao PKI), not a public ACME issuer, and issue the client
 * certificates from the same CA.
 */
export class MtlsServerCertificate extends ServerCertificate {
  constructor(scope: Construct, id: string, props: MtlsServerCertificateProps) {
    const namespace = props.metadata?.namespace ?? Chart.of(scope).namespace;
    const where = `${scope.node.path}/${id}`;
    if (namespace === undefined) {
      throw problem({ where, problem: 'the namespace of the mTLS NATS service is unknown', allowed: 'the namespace the upstream chart is installed in', fix: 'set namespace, or give the chart a namespace' });
    }
    validateNamespace(namespace, where);
    const external = props.externalHostnames ?? [];
    if (external.length === 0) {
      throw problem({ where, problem: 'externalHostnames is empty', allowed: 'the DNS names or IP addresses mTLS clients connect to', fix: 'list the host of the client broker URL, e.g. ["mqtt-mtls.example.com"]' });
    }
    const domain = props.clusterDomain ?? 'cluster.local';
    validateDnsName(domain, where, 'clusterDomain');
    const fqdn = `${MTLS_SERVICE}.${namespace}.svc.${domain}`;
    super(scope, id, {
      ...props,
      metadata: { ...props.metadata, name: props.metadata?.name ?? MTLS_SERVER_TLS },
      secretName: MTLS_SERVER_TLS,
      commonName: fqdn.length <= 64 ? fqdn : undefined,
      dnsNames: [MTLS_SERVICE, `${MTLS_SERVICE}.${namespace}`, `${MTLS_SERVICE}.${namespace}.svc`, fqdn],
    });
    for (const h of external) this.addSubjectAlternativeName(h);
  }
}

/** A TLS Secret provisioned elsewhere (`ServerCertificate.fromSecretName`): a reference; nothing is synthesized. */
class ImportedTlsSecret extends Construct implements ITlsSecretSource {
  public readonly tlsSecretName: string;
  public readonly tlsSecretNamespace?: string;

  constructor(scope: Construct, id: string, ref: ITlsSecretSource) {
    super(scope, id);
    this.tlsSecretName = ref.tlsSecretName;
    this.tlsSecretNamespace = ref.tlsSecretNamespace;
  }

  /** Its whole state, for the inputs digest of renderOnlyChanged (src/charts/inputs.ts). @internal */
  public _referenceData(): Record<string, string | undefined> {
    return { tlsSecretName: this.tlsSecretName, tlsSecretNamespace: this.tlsSecretNamespace };
  }
}
