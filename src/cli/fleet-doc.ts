/**
 * The fleet file's model, derived from the construct props: every field of
 * the file is declared once, on the props (its JSDoc becomes the schema's
 * description). {@link FileForm} maps the props to the file's form by TYPE,
 * never by field: a Duration is written as a text (`90d`, `1h30m`), a TLS
 * Secret source as the Secret's name, and the classes (SecretsDelivery,
 * LeafTrust, ClusterCertificates, CertificateAuthority, certificate issuers,
 * key stores) as the file shapes declared below, each once. Members a file
 * cannot hold (MtlsServerTls objects) map to `never` and are absent from the
 * file; of the ClusterCertificates factories, `vault` has no file form. Two
 * props differ in shape: the CSC/CPC split (`csc`, `cpcs`) is one `clusters`
 * list in the file, and `metadata` (ClusterChartMetadata) is written flat,
 * its `namespace` and `labels` at the top and in each `clusters` entry.
 *
 * schemas/fleet.schema.json is generated from {@link FleetDoc}
 * (`npx projen schema`, see scripts/fleet-schema.ts); a test fails when the
 * committed schema is not the generated one, and test/cli/fleet-model.test.ts
 * counts the declarations of each field of the schema (1).
 */
import type { Duration } from 'cdk8s';
import type { CertificateAuthority } from '../certificates/ca-issuer';
import type { ClusterCertificateOptions, ClusterCertificates } from '../certificates/cluster-certificates';
import type { ICertificateIssuer } from '../certificates/issuers';
import type { LeafTrust } from '../certificates/leaf-trust';
import type { EventBusFleetProps, FleetCpcOptions } from '../charts/fleet';
import type { ClusterChartMetadata } from '../charts/options';
import type { ArgoCdGitOpsOptions, FluxGitOpsOptions, GitOps } from '../gitops/gitops';
import type { IKeyStore } from '../keys/store';
import type { ExternalSecretsDeliveryOptions, InlineDeliveryOptions, SealedSecretsDeliveryOptions, SecretsDelivery, VaultStaticSecretsDeliveryOptions } from '../secrets/delivery';
import type { MtlsServerTls } from '../secrets/mtls-server-tls';
import type { ITlsSecretSource } from '../secrets/tls-secret';

/**
 * A length of time: a count and a unit (d, h, m, s, ms), or several, e.g.
 * 90d, 1h, 1h30m, 10m; 0s for none.
 * @pattern ^([0-9]+(d|h|ms|m|s))+$
 */
export type DurationText = string;

/**
 * The name of an existing TLS Secret (tls.crt, tls.key) in the namespace of
 * its user.
 * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
 */
export type TlsSecretName = string;

/**
 * The file form of a props type, by TYPE: each member keeps its name, its
 * optionality and its JSDoc; the members that are not JSON take the file's
 * form (the table below); what a file cannot hold is `never` (absent).
 */
export type FileForm<T> =
  T extends Duration ? DurationText
    : T extends ITlsSecretSource ? TlsSecretName
      : T extends SecretsDelivery ? FileForm<DeliverySpec>
        : T extends LeafTrust ? LeafTrustDoc
          : T extends ClusterCertificates ? FileForm<CertificatesSpec>
            : T extends CertificateAuthority ? CaDoc
              : T extends ICertificateIssuer ? IssuerDoc
                : T extends GitOps ? GitOpsDoc
                  : T extends IKeyStore ? KeysDoc
                    : T extends MtlsServerTls ? never
                      : T extends string | number | boolean | undefined ? T
                        : T extends Array<infer U> ? Array<FileForm<U>>
                          : { readonly [K in keyof T]: FileForm<T[K]> };

/**
 * A LeafTrust (the CA a CPC trusts for the CSC gateway's certificate; tls://
 * endpoints): one of pemFile, secretName, configMapName, publicRoots (the
 * LeafTrust factories).
 */
export interface LeafTrustDoc {
  /** PEM CA certificate(s), relative to this file: emitted as a ConfigMap (key ca.crt) in each CPC (LeafTrust.fromPemFile). */
  readonly pemFile?: string;
  /** An existing Secret in each CPC's namespace (LeafTrust.fromExistingSecret). */
  readonly secretName?: string;
  /** An existing ConfigMap in each CPC's namespace (with pemFile: the name of the ConfigMap made from it). */
  readonly configMapName?: string;
  /** Key of the CA certificate(s) in secretName/configMapName (default ca.crt). */
  readonly key?: string;
  /** Trust the system roots (a publicly trusted CSC certificate). */
  readonly publicRoots?: boolean;
}

/**
 * How the charts obtain their certificates from cert-manager: one issuer
 * source (issuer, selfSigned or ca: the ClusterCertificates factories), with
 * the options every source takes.
 */
export interface CertificatesSpec extends ClusterCertificateOptions {
  /**
   * The issuer of the gateway's server certificate and the mTLS server
   * certificate (a CA-backed issuer: its CA verifies mTLS clients)
   * (ClusterCertificates.issuer).
   * @default - none
   */
  readonly issuer?: ICertificateIssuer;
  /**
   * Bootstrap a self-signed CA issuer per cluster (evaluation;
   * ClusterCertificates.selfSigned). Each cluster then has its own CA, made
   * inside it, which no other cluster knows: a CPC reaching the CSC through
   * its TLS gateway needs `cscTrust`. For a fleet, prefer `ca` (one CA for
   * every cluster).
   * @default false
   */
  readonly selfSigned?: boolean;
  /**
   * Create a cert-manager CA issuer in each cluster backed by this CA (one
   * CA for the whole fleet, e.g. made by `dsx-event-bus certs`;
   * ClusterCertificates.fleetCa). Its Secret is delivered like the other
   * Secrets (the CA key reaches the manifests only with inline delivery),
   * and every CPC trusts the CSC gateway with the CA certificate by default.
   * @default - none
   */
  readonly ca?: CertificateAuthority;
}

/**
 * A CertificateAuthority from files or a Secret. {}: <keys.directory>/ca/ca.crt
 * and ca.key (dsx-event-bus certs; made by synth --generate-missing). The key
 * is read and put into the manifests only with inline delivery; otherwise the
 * Secret <issuer>-ca (tls.crt, tls.key) comes from the delivery strategy.
 */
export interface CaDoc {
  /** Folder holding ca.crt and ca.key (relative to this file). */
  readonly directory?: string;
  /** The CA certificate (relative to this file). */
  readonly certFile?: string;
  /** The CA private key (relative to this file); needed with inline delivery. */
  readonly keyFile?: string;
  /** An existing Secret (tls.crt, tls.key) in each cluster instead of files; certFile then only gives the CPCs their trust. */
  readonly secretName?: string;
}

/** An existing cert-manager issuer, by kind and name (CertificateIssuer.fromIssuerName, fromClusterIssuerName). */
export interface IssuerDoc {
  /** Issuer (in the chart's namespace) or ClusterIssuer. */
  readonly kind?: 'Issuer' | 'ClusterIssuer';
  /** `metadata.name` of the issuer. */
  readonly name: string;
}

/**
 * How a GitOps engine deploys the fleet from git (GitOps.argoCd, GitOps.flux):
 * exactly one of argocd and flux.
 * @minProperties 1
 * @maxProperties 1
 */
export interface GitOpsDoc {
  /** Argo CD: an AppProject and one ApplicationSet for the whole fleet (gitops/argocd/). */
  readonly argocd?: ArgoCdGitOpsOptions;
  /** Flux: a GitRepository and two Kustomizations per cluster (gitops/flux/<destination>/). */
  readonly flux?: FluxGitOpsOptions;
}

/** A key store: a directory in the layout of dsx-event-bus nkeys, or deterministic test keys. */
export interface KeysDoc {
  /** The key store directory (relative to this file); --secrets DIR replaces it. */
  readonly directory?: string;
  /** Create missing keys (never replaces existing ones). Default false: a missing key is an error naming the command to run. */
  readonly generateMissing?: boolean;
  /** Keys derived from a phrase; for tests and snapshots only. */
  readonly deterministicTestKeys?: boolean;
  /** The phrase of deterministicTestKeys. */
  readonly phrase?: string;
}

/** A SecretsDelivery factory, by name, with its options. */
export interface DeliveryType<K extends string> {
  /** The SecretsDelivery factory: inline, existing, externalSecrets, vaultStaticSecrets or sealedSecrets. */
  readonly type: K;
}

/**
 * What sealedSecrets reads from files: the certificates by cluster folder
 * name, from one folder (give this, or certificates, not both).
 */
export interface SealedSecretsFileMembers {
  /**
   * Folder (relative to this file) holding each cluster's sealed-secrets
   * controller certificate as <cluster>.pem (csc.pem, cpc-1.pem, ...), as
   * kubeseal --fetch-cert writes it.
   */
  readonly certificatesDirectory?: string;
}

/**
 * A SecretsDelivery: how the Secrets reach the clusters, by `type` (the
 * factory's options in props form; the file's form is FileForm of it).
 * @discriminator type
 */
export type DeliverySpec =
  | (DeliveryType<'inline'> & InlineDeliveryOptions)
  | (DeliveryType<'externalSecrets'> & ExternalSecretsDeliveryOptions)
  | (DeliveryType<'vaultStaticSecrets'> & VaultStaticSecretsDeliveryOptions)
  | (DeliveryType<'sealedSecrets'> & Partial<SealedSecretsDeliveryOptions> & SealedSecretsFileMembers)
  | DeliveryType<'existing'>;
/** `delivery` in the file's form. */
export type DeliveryDoc = FileForm<DeliverySpec>;

/** Members of the file alone: the CSC and the CPCs in one list, and the file's own settings. */
export interface FleetFileMembers<Cluster> {
  /** The JSON Schema of this file, for editors. */
  readonly $schema?: string;
  /**
   * The CSC (type csc, exactly one) and the CPCs (type cpc), in order.
   * @minItems 1
   */
  readonly clusters: Cluster[];
  /**
   * Output of dsx-event-bus certs: nats-mtls-server-tls of each cluster is
   * read from <dir>/<cluster>/certs/nats-mtls-server-tls (inline and sealedSecrets delivery only).
   */
  readonly mtlsCertsDirectory?: string;
}

/** The kind of a `clusters` entry. */
export interface ClusterType {
  /** global.eventBus.clusterType: the csc (exactly one) or a cpc. */
  readonly type: 'csc' | 'cpc';
}

/**
 * One entry of `clusters`: the csc (exactly one) or a cpc, FleetCpcOptions in
 * the file's form (id, cscEndpoint and cscTrust on cpc entries only). Write a
 * CPC id as a YAML string: quote digits (id: "1"), since YAML reads 010 as 10
 * and 0x1A as 26.
 */
// intermediateCa is not written in the file: synth issues each cluster's
// intermediate beside the root of certificates.ca.
export type ClusterModel = ClusterType & Partial<Omit<FleetCpcOptions, 'intermediateCa' | 'metadata'>> & ClusterChartMetadata;

// The fleet file in props form: EventBusFleetProps with one `clusters` list
// for `csc` and `cpcs`. The schema is generated from this type, its non-JSON
// types swapped by the table of FileForm; its JSDoc is the schema's description.
/**
 * DSX Event Bus fleet description: one CSC and N CPCs for
 * `dsx-event-bus synth -c FILE`. Relative paths are resolved from the
 * directory of this file.
 */
export type FleetModel = Omit<EventBusFleetProps, 'csc' | 'cpcs' | 'metadata'> & ClusterChartMetadata & FleetFileMembers<ClusterModel>;

/** One entry of `clusters` in the file's form. */
export type ClusterDoc = FileForm<ClusterModel>;

/** The fleet file as read (after schema validation). */
export type FleetDoc = FileForm<FleetModel>;
