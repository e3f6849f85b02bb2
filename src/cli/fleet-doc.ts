/**
 * The fleet file's model, derived from the construct props: a field of the
 * file is declared once, on the props (its JSDoc becomes the schema's
 * description). Only members that are not JSON are swapped for the file's
 * spelling: a Duration for a text (`90d`), a TLS Secret source for its name,
 * the classes LeafTrust, CertificateAuthority, SecretsDelivery and the key
 * store for their file shapes, the CSC and the CPCs for one `clusters` list.
 * String enums whose values are the file's spelling pass through unchanged
 * (GatewayTransport's values became the file's `tls` and `tcp`; the file's
 * spelling did not change, so existing fleet files stay valid).
 *
 * schemas/fleet.schema.json is generated from {@link FleetDoc}
 * (`npx projen schema`, see scripts/fleet-schema.ts); a test fails when the
 * committed schema is not the generated one.
 */
import type { ExtraAccountSettings, MqttStreamsOptions } from '../charts/chart-values';
import type { EventBusFleetProps, FleetCpcOptions } from '../charts/fleet';
import type { ClusterCertificateOptions, ClusterGatewayOptions } from '../charts/options';
import type { ExternalSecretsDeliveryOptions, VaultStaticSecretsDeliveryOptions } from '../secrets/delivery';

/**
 * A length of time as cert-manager and the secret operators write it: a count
 * and a unit (s, m, h or d), e.g. 90d, 1h, 10m.
 * @pattern ^[0-9]+(s|m|h|d)$
 */
type DurationText = string;

/**
 * A Go duration: h, m, s and ms parts, e.g. 3h, 1h30m; 0s for no limit.
 * @pattern ^([0-9]+(h|m|s|ms))+$
 */
type GoDurationText = string;

/** `gateway`: ClusterGatewayOptions with the server TLS Secret by name. */
export type GatewayDoc = Omit<ClusterGatewayOptions, 'serverTlsSecret'> & {
  /**
   * An existing TLS Secret (in the gateway's namespace) for the terminate
   * listeners instead of a cert-manager Certificate.
   */
  readonly serverTlsSecretName?: string;
};

/** `mqttStreams`: MqttStreamsOptions with `maxAge` as a Go duration. */
export type MqttStreamsDoc = Omit<MqttStreamsOptions, 'maxAge'> & {
  /** Age limit of the messages: a Go duration, e.g. 3h, 1h30m; 0s for no limit (the chart's 3h by default). */
  readonly maxAge?: GoDurationText;
};

/**
 * `cscTrust`: the CA a CPC trusts for the CSC gateway's certificate (tls://
 * endpoints; the leaf remote starts with the TLS handshake). One of pemFile,
 * secretName, configMapName, publicRoots (the LeafTrust factories). Default:
 * the certificate of certificates.ca, else publicRoots.
 */
export interface CscTrustDoc {
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
 * `certificates.ca`: one CA for the whole fleet behind a cert-manager CA
 * issuer in every cluster; each CPC then trusts the CSC gateway with its
 * certificate. {}: <keys.directory>/ca/ca.crt and ca.key (dsx-event-bus certs;
 * made by synth --generate-missing). The key is read and put into the
 * manifests only with inline delivery; otherwise the Secret <issuer>-ca
 * (tls.crt, tls.key) comes from the delivery strategy.
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

/** `certificates.issuer`: an existing cert-manager issuer, by kind and name. */
export interface IssuerDoc {
  /** Issuer (in the chart's namespace) or ClusterIssuer. */
  readonly kind?: 'Issuer' | 'ClusterIssuer';
  /** `metadata.name` of the issuer. */
  readonly name: string;
}

/** `certificates`: ClusterCertificateOptions with files and names for the classes, texts for the durations. */
export type CertificatesDoc = Omit<ClusterCertificateOptions, 'issuer' | 'ca' | 'vault' | 'duration' | 'renewBefore'> & {
  /** An existing cert-manager issuer of the gateway's and the mTLS server certificates. */
  readonly issuer?: IssuerDoc;
  /** One CA for the whole fleet (see CaDoc). */
  readonly ca?: CaDoc;
  /** Lifetime of the certificates, e.g. 90d (the default). */
  readonly duration?: DurationText;
  /** Renewal before expiry, e.g. 30d (the default). */
  readonly renewBefore?: DurationText;
};

/**
 * `delivery`: how the Secrets reach the clusters (the SecretsDelivery factories), by `type`.
 * @discriminator type
 */
export type DeliveryDoc =
  | { readonly type: 'inline' }
  | ({ readonly type: 'externalSecrets' } & Omit<ExternalSecretsDeliveryOptions, 'refreshInterval'> & {
    /** How often the operator re-reads the store, e.g. 1h. */
    readonly refreshInterval?: DurationText;
  })
  | ({ readonly type: 'vaultStaticSecrets' } & Omit<VaultStaticSecretsDeliveryOptions, 'refreshAfter'> & {
    /** How often the operator re-reads Vault, e.g. 1h. */
    readonly refreshAfter?: DurationText;
  })
  | { readonly type: 'existing' };

/** `keys`: where the NKeys come from (a key store directory in the layout of dsx-event-bus nkeys, or deterministic test keys). */
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

/** An extra account with its settings (global.eventBus.extraAccounts.<name>). */
export type ExtraAccountDoc = ExtraAccountSettings & {
  /** The account's name. */
  readonly name: string;
};

/**
 * The members the fleet and each cluster entry both have whose file spelling
 * differs from the props': declared once for both levels (an entry's value
 * replaces the fleet's, field by field for the gateway).
 */
interface MemberSpelling {
  /** The gateway (a cluster entry's fields replace the fleet's; hostnames are typically per cluster). */
  readonly gateway?: GatewayDoc;
  /** The MQTT JetStream streams (global.eventBus.mqttStreams); a cluster entry's replace the fleet's. */
  readonly mqttStreams?: MqttStreamsDoc;
  /** The CA a CPC trusts for the CSC gateway's certificate; a cpc entry's replaces the fleet's. */
  readonly cscTrust?: CscTrustDoc;
}
type Spelled = keyof MemberSpelling | 'mtlsServerTls';

/** One entry of `clusters`: the csc (exactly one) or a cpc (FleetCpcOptions in the file's spelling). */
export type ClusterDoc = Omit<FleetCpcOptions, Spelled | 'id'> & MemberSpelling & {
  /** global.eventBus.clusterType */
  readonly type: 'csc' | 'cpc';
  /**
   * CPC id (^[a-z0-9]+$) as a YAML string: quote digits (id: "1"), since YAML
   * reads 010 as 10 and 0x1A as 26; CPC only.
   */
  readonly id?: string;
};

/**
 * DSX Event Bus fleet description: one CSC and N CPCs for
 * `dsx-event-bus synth -c FILE`. Relative paths are resolved from the
 * directory of this file.
 */
export type FleetDoc = Omit<EventBusFleetProps, Spelled | 'csc' | 'cpcs' | 'keys' | 'delivery' | 'certificates' | 'extraAccounts' | 'extraAccountSettings'>
& MemberSpelling & {
  /** The JSON Schema of this file, for editors. */
  readonly $schema?: string;
  /**
   * The CSC (type csc, exactly one) and the CPCs (type cpc), in order.
   * @minItems 1
   */
  readonly clusters: ClusterDoc[];
  /** Extra NATS accounts, the same on every cluster: a name, or { name, jetstream } (extraAccounts and extraAccountSettings of the props). */
  readonly extraAccounts?: Array<string | ExtraAccountDoc>;
  /** Where the NKeys come from. */
  readonly keys?: KeysDoc;
  /** How the Secrets reach the clusters, by type. */
  readonly delivery: DeliveryDoc;
  /** How the charts obtain their certificates from cert-manager. */
  readonly certificates?: CertificatesDoc;
  /**
   * Output of dsx-event-bus certs: nats-mtls-server-tls of each cluster is
   * read from <dir>/<cluster>/certs/nats-mtls-server-tls (inline delivery only).
   */
  readonly mtlsCertsDirectory?: string;
};
