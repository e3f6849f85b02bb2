import { AuthCalloutOptions, CrossLayerSubjects, ExtraAccountSettings, MqttStreamsOptions } from './chart-values';
import type { ClusterCertificates } from '../certificates/cluster-certificates';
import { EventBusEnvoyProxyOptions } from '../gateway/envoy-proxy';
import { GatewayTransport } from '../gateway/gateway';
import { RouteApiVersion, RouteRendering } from '../gateway/route-types';
import { DEFAULT_NAMESPACE } from '../k8s/names';
import { IKeyStore } from '../keys/store';
import { SecretsDelivery } from '../secrets/delivery';
import { SecretOverride } from '../secrets/event-bus-secrets';
import { MtlsServerTls } from '../secrets/mtls-server-tls';
import type { ITlsSecretSource } from '../secrets/tls-secret';

/** The gateway of one cluster: the four DSX listeners and their routes. */
export interface ClusterGatewayOptions {
  /**
   * Create the Gateway (and its EnvoyProxy). When false, no Gateway is
   * synthesized and every route in the Helm values is disabled: the cluster
   * is reachable only inside Kubernetes.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Name of the Gateway.
   * @default "event-bus-gateway"
   */
  readonly name?: string;
  /**
   * Namespace of the Gateway, its EnvoyProxy and its server certificate.
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * GatewayClass.
   * @default "eg"
   */
  readonly gatewayClassName?: string;
  /**
   * TLS-terminate (production) or plain TCP (local evaluation) for `mqtt`,
   * `nats-client` and `nats-leafnode`.
   * @default GatewayTransport.TLS
   */
  readonly transport?: GatewayTransport;
  /**
   * DNS names clients use to reach this cluster's gateway. They become the
   * server certificate's `dnsNames` (and, for the CSC, the default
   * `cscEndpoint` host of every CPC).
   * @default - none
   */
  readonly hostnames?: string[];
  /**
   * IP addresses clients use to reach the gateway (e.g. a MetalLB address).
   * They become the server certificate's `ipAddresses`, never `dnsNames`.
   * @default - none
   */
  readonly ipAddresses?: string[];
  /**
   * SNI hostnames of the `nats-mqtt-mtls` TLSRoute and external SANs of the
   * mTLS server certificate.
   * @default - the gateway's `hostnames`
   */
  readonly mtlsHostnames?: string[];
  /**
   * Broker URLs mTLS clients use; the chart fails unless the mTLS
   * certificate's SANs, the TLSRoute hostnames and each URL's host agree.
   * @default - no check
   */
  readonly mtlsClientUrls?: string[];
  /**
   * API version of the routes.
   * @default RouteApiVersion.V1ALPHA2
   */
  readonly routeApiVersion?: RouteApiVersion;
  /**
   * Who creates the routes: the upstream chart (from the Helm values) or this
   * library (TCPRoute/TLSRoute manifests).
   * @default RouteRendering.HELM_VALUES
   */
  readonly routeRendering?: RouteRendering;
  /**
   * Name of an existing EnvoyProxy to use instead of creating one.
   * @default - an EnvoyProxy "event-bus-proxy-config" is created
   */
  readonly envoyProxyName?: string;
  /**
   * How the created EnvoyProxy deploys Envoy (replicas, resources, Service
   * type, annotations and MetalLB pool); passed to EventBusEnvoyProxy as is.
   * Not allowed with `envoyProxyName` (that EnvoyProxy exists already).
   * @default - Envoy Gateway's defaults
   */
  readonly envoy?: EventBusEnvoyProxyOptions;
  /**
   * An existing TLS Secret for the terminate listeners instead of a
   * cert-manager Certificate.
   * @default - a ServerCertificate from `certificates`
   */
  readonly serverTlsSecret?: ITlsSecretSource;
}

/** A user NKey permission entry for the chart's auth-callout (`global.eventBus.auth.permissions.nkey`). */
export interface NKeyPermission {
  /** Entry name; must not collide with the names the chart generates. */
  readonly name: string;
  /** The user's public key (`U…`). */
  readonly publicKey: string;
  /** NATS account the user is placed in (CSC, CPC, SYS, AUTHX or an extra account). */
  readonly account: string;
  /**
   * Subjects the user may publish to.
   * @default - the account's defaults
   */
  readonly publishAllow?: string[];
  /**
   * Subjects the user may subscribe to.
   * @default - the account's defaults
   */
  readonly subscribeAllow?: string[];
}

/**
 * The metadata of a cluster chart: what a cdk8s chart applies to every
 * object it holds (cdk8s `ChartProps`), so a chart takes `namespace` and
 * `labels` and no object name (it makes many objects, each named as the
 * upstream chart expects).
 */
export interface ClusterChartMetadata {
  /**
   * Namespace the upstream chart is installed in (the Secrets and the mTLS
   * certificate live there); a fleet member's replaces the fleet's.
   * @default "dsx"
   */
  readonly namespace?: string;
  /**
   * Labels of every object; a fleet member's are added to the fleet's (the
   * member's value wins for a key both set).
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/** The namespace of a chart with this metadata: its own, else "dsx" (decided here, for the chart and the fleet's intermediates). */
export function chartNamespace(metadata: ClusterChartMetadata | undefined): string {
  return metadata?.namespace ?? DEFAULT_NAMESPACE;
}

/** Whether a chart with these options has the mTLS MQTT endpoint: `mtls`, else true (decided here, for the chart and the fleet's checks). */
export function chartMtls(options: Pick<EventBusClusterOptions, 'mtls'>): boolean {
  return options.mtls ?? true;
}

/** What every cluster chart of the event bus takes. */
export interface EventBusClusterOptions {
  /** How the Secrets reach the cluster (`SecretsDelivery.inline()`, `externalSecrets(...)`, …). */
  readonly delivery: SecretsDelivery;
  /**
   * Where the NKeys come from: a `DirectoryKeyStore` or, in tests, the
   * `DeterministicKeyStore`.
   * @default - none: allowed for every delivery except `inline()`
   */
  readonly keys?: IKeyStore;
  /**
   * The chart's namespace and the labels of every object it makes.
   * @default - namespace "dsx", no labels of the user's
   */
  readonly metadata?: ClusterChartMetadata;
  /**
   * Whether the mTLS MQTT endpoint is enabled (`global.eventBus.mtls.enabled`).
   * @default true
   */
  readonly mtls?: boolean;
  /**
   * Where `nats-mtls-server-tls` comes from when no certificate issuer is set.
   * @default - a cert-manager MtlsServerCertificate when `certificates` has an
   * issuer; otherwise MtlsServerTls.fromDelivery()
   */
  readonly mtlsServerTls?: MtlsServerTls;
  /**
   * Extra NATS accounts (the chart's `extraAccounts`), the same on every cluster.
   * @default - none
   */
  readonly extraAccounts?: string[];
  /**
   * Secret name/key overrides (written to `nkeySecretRefOverrides`).
   * @default - the upstream names
   */
  readonly secretOverrides?: SecretOverride[];
  /**
   * Make the Secrets immutable.
   * @default false
   */
  readonly immutableSecrets?: boolean;
  /**
   * The gateway.
   * @default - a TLS gateway named "event-bus-gateway" in the chart's namespace
   */
  readonly gateway?: ClusterGatewayOptions;
  /**
   * cert-manager certificates for the gateway and the mTLS server, from one
   * issuer source (`ClusterCertificates.issuer(...)`, `.selfSigned()`,
   * `.fleetCa(...)`, `.vault(...)`).
   * @default - none: a TLS gateway then needs `gateway.serverTlsSecret`
   */
  readonly certificates?: ClusterCertificates;
  /**
   * User NKey permissions for auth-callout.
   * @default - none
   */
  readonly nkeyPermissions?: NKeyPermission[];
  /**
   * Add the HostPrerequisites DaemonSet (privileged; raises the inotify limits).
   * @default false
   */
  readonly hostPrerequisites?: boolean;
  /**
   * Properties of extra accounts, by account name (each must be in
   * `extraAccounts`), e.g. `{ LaunchLayer: { jetstream: true } }`.
   * @default - every extra account with the chart's defaults (no JetStream)
   */
  readonly extraAccountSettings?: { [account: string]: ExtraAccountSettings };
  /**
   * Subjects routed between the CSC and the CPCs (`global.eventBus.crossLayer`),
   * the same on every cluster; no subject may be routed by two lists.
   * @default - none (the chart's)
   */
  readonly crossLayer?: CrossLayerSubjects;
  /**
   * The MQTT JetStream streams (`global.eventBus.mqttStreams`).
   * @default - the chart's: 64 MiB, 3 replicas, memory, 3h
   */
  readonly mqttStreams?: MqttStreamsOptions;
  /**
   * The auth-callout image and JWKS settings (`auth-callout` subchart values).
   * @default - not set: the values file lists them as the deployer's to set
   */
  readonly authCallout?: AuthCalloutOptions;
}
