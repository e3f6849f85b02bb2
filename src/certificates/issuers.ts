import { ApiObject, ApiObjectMetadata, Chart, Duration, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { problem, quote } from '../errors';
import { resolveMetadata, ResolvedMetadata } from '../labels';
import { certificatesModule, clusterIssuersModule, issuersModule } from './bindings';
import { certificatePrivateKey, goDuration, PrivateKeyAlgorithm, validateDurations } from './private-key';
import type { IssuerSpec } from '../imports/cm-issuers-cert-manager.io';
import { validateNamespace, validateObjectName } from '../k8s/names';

/** The two kinds of cert-manager issuer a Certificate's `issuerRef` can name. */
export enum IssuerKind {
  /** A namespaced `Issuer`: signs Certificates in its own namespace only. */
  ISSUER = 'Issuer',
  /** A cluster-scoped `ClusterIssuer`: signs Certificates in any namespace. */
  CLUSTER_ISSUER = 'ClusterIssuer',
}

/** A cert-manager issuer a Certificate can reference in `issuerRef`. */
export interface ICertificateIssuer {
  /** `metadata.name` of the Issuer or ClusterIssuer. */
  readonly issuerName: string;
  /** Issuer or ClusterIssuer. */
  readonly issuerKind: IssuerKind;
  /**
   * Namespace of a namespaced Issuer, when known. A Certificate can only use
   * an Issuer of its own namespace. Undefined for ClusterIssuers, and for an
   * Issuer in the consumer's own namespace.
   */
  readonly issuerNamespace?: string;
}

/** Importers for cert-manager issuers that exist already (created by another tool or team). */
export class CertificateIssuer {
  /**
   * An existing namespaced `Issuer` (e.g. the page's `event-bus-certificate-issuer`).
   * @param name the Issuer's name
   * @param namespace its namespace, when it is not the Certificate's chart namespace
   */
  public static fromIssuerName(name: string, namespace?: string): ICertificateIssuer {
    validateObjectName(name, 'CertificateIssuer.fromIssuerName()', 'Issuer name');
    if (namespace !== undefined) validateNamespace(namespace, 'CertificateIssuer.fromIssuerName()');
    return { issuerName: name, issuerKind: IssuerKind.ISSUER, issuerNamespace: namespace };
  }

  /** An existing `ClusterIssuer` (e.g. a Vault/OpenBao PKI issuer shared by the cluster). */
  public static fromClusterIssuerName(name: string): ICertificateIssuer {
    validateObjectName(name, 'CertificateIssuer.fromClusterIssuerName()', 'ClusterIssuer name');
    return { issuerName: name, issuerKind: IssuerKind.CLUSTER_ISSUER };
  }

  private constructor() {}
}

/** Props shared by the issuers this library creates. */
export interface IssuerOptions {
  /**
   * Metadata of the issuer: `name` (the name Certificates reference),
   * `namespace` of a namespaced Issuer (and, for the self-signed bootstrap,
   * of the CA Certificate and Secret), labels and annotations of every object
   * the construct creates. The standard labels (`app.kubernetes.io/part-of`,
   * `managed-by`, `component: certificates`) are always added.
   * @default - name "event-bus-certificate-issuer" (the name in upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#server-tls-certificate)), the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
  /**
   * Create a `ClusterIssuer` instead of an `Issuer`.
   * @default false
   */
  readonly clusterScoped?: boolean;
}

/** Props of {@link SelfSignedCaIssuer}. */
export interface SelfSignedCaIssuerProps extends IssuerOptions {
  /**
   * Common name of the bootstrap CA certificate.
   * @default "DSX Event Bus CA"
   */
  readonly caCommonName?: string;
  /**
   * Lifetime of the CA certificate.
   * @default Duration.days(3650)
   */
  readonly caDuration?: Duration;
  /**
   * Key algorithm of the CA.
   * @default PrivateKeyAlgorithm.ECDSA_P256
   */
  readonly caPrivateKey?: PrivateKeyAlgorithm;
  /**
   * For a `ClusterIssuer`: cert-manager's cluster resource namespace, where a
   * ClusterIssuer looks up its CA Secret (`--cluster-resource-namespace`).
   * The CA Certificate is created there.
   * @default "cert-manager"
   */
  readonly clusterResourceNamespace?: string;
}

/** Name of the issuers this library creates (upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#server-tls-certificate)). */
export const DEFAULT_ISSUER_NAME = 'event-bus-certificate-issuer';

/** cert-manager's default cluster resource namespace (its `--cluster-resource-namespace`). */
const CERT_MANAGER_NAMESPACE = 'cert-manager';

/**
 * The namespace of the CA Secret of an issuer this library makes (the
 * self-signed CA issuer's, or CaIssuer's): for a ClusterIssuer, cert-manager's
 * cluster resource namespace, default "cert-manager"; for an Issuer, its own
 * namespace (`issuerNamespace`). `clusterResourceNamespace` is checked here
 * for both.
 */
export function caSecretNamespace(
  clusterScoped: boolean, clusterResourceNamespace: string | undefined, issuerNamespace: string | undefined, where: string,
): string | undefined {
  if (!clusterScoped) {
    if (clusterResourceNamespace !== undefined) {
      throw problem({ where, problem: 'clusterResourceNamespace is set for a namespaced Issuer', allowed: 'clusterResourceNamespace only with clusterScoped: true', fix: 'remove clusterResourceNamespace, or set clusterScoped: true' });
    }
    return issuerNamespace;
  }
  const namespace = clusterResourceNamespace ?? CERT_MANAGER_NAMESPACE;
  validateNamespace(namespace, where, 'clusterResourceNamespace');
  return namespace;
}

function chartNamespace(scope: Construct): string | undefined {
  return Chart.of(scope).namespace;
}

/** The issuer's `metadata` prop, checked, with the default name and the standard labels. */
export function issuerMetadata(metadata: ApiObjectMetadata | undefined, where: string): ResolvedMetadata {
  return resolveMetadata(metadata, 'certificates', DEFAULT_ISSUER_NAME, where, 'issuer name');
}

/** An Issuer, or a ClusterIssuer without a namespace. */
export function issuerObject(
  scope: Construct, id: string, clusterScoped: boolean, name: string, m: ResolvedMetadata, spec: IssuerSpec,
): ApiObject {
  const { labels, annotations } = m;
  if (clusterScoped) {
    const { ClusterIssuer } = clusterIssuersModule();
    // ClusterIssuerSpec is generated from the same schema as IssuerSpec.
    const issuer = new ClusterIssuer(scope, id, { metadata: { name, labels, annotations }, spec: spec as any });
    // cdk8s gives every object the chart's namespace; a cluster-scoped object has none.
    if (Chart.of(scope).namespace !== undefined) issuer.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    return issuer;
  }
  const { Issuer } = issuersModule();
  return new Issuer(scope, id, { metadata: { name, namespace: m.namespace, labels, annotations }, spec });
}

/**
 * A self-signed bootstrap CA in three objects, as cert-manager documents it:
 * a `SelfSigned` issuer (`<name>-selfsigned`) signs a CA Certificate
 * (`<name>-ca`, Secret `<name>-ca`), which backs the CA issuer `<name>` that
 * signs the server certificates. Good for evaluation and for private
 * clusters whose clients are given `ca.crt`; use a Vault/OpenBao PKI or your
 * company CA in production.
 */
export class SelfSignedCaIssuer extends Construct implements ICertificateIssuer {
  public readonly issuerName: string;
  public readonly issuerKind: IssuerKind;
  public readonly issuerNamespace?: string;
  /** Name of the Secret holding the CA certificate and key (`<name>-ca`). */
  public readonly caSecretName: string;

  constructor(scope: Construct, id: string, props: SelfSignedCaIssuerProps = {}) {
    super(scope, id);
    const where = this.node.path;
    const m = issuerMetadata(props.metadata, where);
    const name = m.name;
    const clusterScoped = props.clusterScoped ?? false;
    const caNamespace = caSecretNamespace(clusterScoped, props.clusterResourceNamespace, m.namespace, where);
    const caDuration = props.caDuration ?? Duration.days(3650);
    validateDurations(where, caDuration, undefined);
    const caCommonName = props.caCommonName ?? 'DSX Event Bus CA';
    if (caCommonName.length === 0 || caCommonName.length > 64) {
      throw problem({ where, problem: `caCommonName ${quote(caCommonName)} has ${caCommonName.length} characters`, allowed: '1 to 64 characters (X.509 upper bound)', fix: 'shorten it' });
    }

    this.issuerName = name;
    this.issuerKind = clusterScoped ? IssuerKind.CLUSTER_ISSUER : IssuerKind.ISSUER;
    this.issuerNamespace = clusterScoped ? undefined : (m.namespace ?? chartNamespace(this));
    this.caSecretName = `${name}-ca`;

    const selfSignedName = `${name}-selfsigned`;
    issuerObject(this, 'SelfSigned', clusterScoped, selfSignedName, m, { selfSigned: {} });
    const { Certificate } = certificatesModule();
    new Certificate(this, 'Ca', {
      metadata: { name: this.caSecretName, namespace: caNamespace, labels: m.labels, annotations: m.annotations },
      spec: {
        isCa: true,
        commonName: caCommonName,
        secretName: this.caSecretName,
        duration: goDuration(caDuration),
        // Renewal keeps the CA key: certificates and client trust stores
        // issued under the old CA certificate stay valid (same key, same subject).
        privateKey: certificatePrivateKey(props.caPrivateKey ?? PrivateKeyAlgorithm.ECDSA_P256, 'Never'),
        issuerRef: { group: 'cert-manager.io', kind: this.issuerKind, name: selfSignedName },
      },
    });
    issuerObject(this, 'Resource', clusterScoped, name, m, { ca: { secretName: this.caSecretName } });
  }
}

/** How cert-manager authenticates to Vault/OpenBao. */
export class VaultAuth {
  /**
   * Kubernetes auth with a bound service-account token that cert-manager
   * requests for `serviceAccountName` (cert-manager 1.12+; grant cert-manager
   * `create` on `serviceaccounts/token` for that account in the issuer's namespace).
   */
  public static kubernetes(options: VaultKubernetesAuthOptions): VaultAuth {
    if (!options.role) throw problem({ where: 'VaultAuth.kubernetes()', problem: 'role is empty', fix: 'set the Vault role bound to the service account' });
    validateObjectName(options.serviceAccountName, 'VaultAuth.kubernetes()', 'serviceAccountName');
    return new VaultAuth({
      kubernetes: {
        role: options.role,
        mountPath: options.mountPath ?? '/v1/auth/kubernetes',
        serviceAccountRef: { name: options.serviceAccountName, audiences: options.audiences },
      },
    });
  }

  /** A Vault token stored in a Secret (key `token` unless given). */
  public static token(secretName: string, key?: string): VaultAuth {
    validateObjectName(secretName, 'VaultAuth.token()', 'Secret name');
    return new VaultAuth({ tokenSecretRef: { name: secretName, key: key ?? 'token' } });
  }

  /** AppRole auth: the role id, and the secret id in a Secret (key `secretId` unless given). */
  public static appRole(options: VaultAppRoleAuthOptions): VaultAuth {
    if (!options.roleId) throw problem({ where: 'VaultAuth.appRole()', problem: 'roleId is empty', fix: 'set the AppRole role id' });
    validateObjectName(options.secretName, 'VaultAuth.appRole()', 'secretName');
    return new VaultAuth({
      appRole: { path: options.path ?? 'approle', roleId: options.roleId, secretRef: { name: options.secretName, key: options.secretKey ?? 'secretId' } },
    });
  }

  /** @internal */
  public readonly _spec: any;

  private constructor(spec: any) {
    this._spec = spec;
  }
}

/** Options of {@link VaultAuth.kubernetes}. */
export interface VaultKubernetesAuthOptions {
  /** Vault role bound to the service account. */
  readonly role: string;
  /** Service account (in the issuer's namespace) whose token cert-manager presents. */
  readonly serviceAccountName: string;
  /**
   * Mount path of the Kubernetes auth method.
   * @default "/v1/auth/kubernetes"
   */
  readonly mountPath?: string;
  /**
   * Audiences of the requested token.
   * @default - cert-manager's default (`vault://<namespace>/<issuer>`)
   */
  readonly audiences?: string[];
}

/** Options of {@link VaultAuth.appRole}. */
export interface VaultAppRoleAuthOptions {
  /** AppRole role id. */
  readonly roleId: string;
  /** Secret holding the AppRole secret id. */
  readonly secretName: string;
  /**
   * Key of the secret id in that Secret.
   * @default "secretId"
   */
  readonly secretKey?: string;
  /**
   * Mount path of the AppRole auth method.
   * @default "approle"
   */
  readonly path?: string;
}

/** Props of {@link VaultIssuer}. */
export interface VaultIssuerProps extends IssuerOptions {
  /** Vault/OpenBao address, e.g. `https://vault.example.com:8200`. */
  readonly server: string;
  /** PKI signing path, e.g. `pki_int/sign/event-bus`. */
  readonly path: string;
  /** How cert-manager logs in to Vault. */
  readonly auth: VaultAuth;
  /**
   * Vault Enterprise / OpenBao namespace.
   * @default - none
   */
  readonly vaultNamespace?: string;
  /**
   * Secret (key `ca.crt`) with the CA bundle that signs the Vault server's certificate.
   * @default - the system trust store of cert-manager
   */
  readonly caBundleSecretName?: string;
}

/**
 * A cert-manager Issuer (or ClusterIssuer) backed by a Vault/OpenBao PKI
 * secrets engine (https://cert-manager.io/docs/configuration/vault/).
 */
export class VaultIssuer extends Construct implements ICertificateIssuer {
  public readonly issuerName: string;
  public readonly issuerKind: IssuerKind;
  public readonly issuerNamespace?: string;

  constructor(scope: Construct, id: string, props: VaultIssuerProps) {
    super(scope, id);
    const where = this.node.path;
    const m = issuerMetadata(props.metadata, where);
    const name = m.name;
    if (!/^https?:\/\/[^\s/]+/.test(props.server ?? '')) {
      throw problem({ where, field: 'server', problem: `Vault server ${quote(props.server)} is not an http(s) URL`, allowed: 'e.g. "https://vault.example.com:8200"', fix: 'set server to the Vault address cert-manager can reach' });
    }
    if (!props.path || /^\/|\s/.test(props.path)) {
      throw problem({ where, field: 'path', problem: `Vault PKI path ${quote(props.path)} is invalid`, allowed: 'a path without a leading "/", e.g. "pki_int/sign/event-bus"', fix: 'use the sign (or issue) path of your PKI role' });
    }
    if (props.caBundleSecretName !== undefined) validateObjectName(props.caBundleSecretName, where, 'caBundleSecretName');
    const clusterScoped = props.clusterScoped ?? false;
    this.issuerName = name;
    this.issuerKind = clusterScoped ? IssuerKind.CLUSTER_ISSUER : IssuerKind.ISSUER;
    this.issuerNamespace = clusterScoped ? undefined : (m.namespace ?? chartNamespace(this));
    issuerObject(this, 'Resource', clusterScoped, name, m, {
      vault: {
        server: props.server,
        path: props.path,
        namespace: props.vaultNamespace,
        caBundleSecretRef: props.caBundleSecretName ? { name: props.caBundleSecretName, key: 'ca.crt' } : undefined,
        auth: props.auth._spec,
      },
    });
  }
}
