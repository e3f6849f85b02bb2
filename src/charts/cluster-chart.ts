import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  AuthCalloutOptions, authCalloutValues, CrossLayerSubjects, crossLayerValues, deployerValues, extraAccountValues,
  MqttStreamsOptions, mqttStreamsValues, validateAuthCallout, validateCrossLayer, validateMqttStreams, validateSubject,
} from './chart-values';
import { manifestYaml } from './manifest-yaml';
import { chartMtls, chartNamespace, ClusterGatewayOptions, EventBusClusterOptions, NKeyPermission } from './options';
import { CaIssuer, CertificateAuthority, CertificateAuthorityKind } from '../certificates/ca-issuer';
import { ClusterCertificatesKind } from '../certificates/cluster-certificates';
import { ICertificateIssuer, SelfSignedCaIssuer, VaultIssuer } from '../certificates/issuers';
import { describeIntermediate } from '../certificates/name-constraints';
import { MtlsServerCertificate, ServerCertificate } from '../certificates/server-certificate';
import { HostPrerequisites } from '../charts/host-prerequisites';
import { NATS_LEAFNODE_PORT } from '../endpoint';
import { formatProblem, forwardedProps, problem, quote, renamedProps } from '../errors';
import { hostnameAgreementProblems } from '../gateway/agreement';
import { EventBusEnvoyProxy, IEnvoyProxy } from '../gateway/envoy-proxy';
import { EventBusGateway, GatewayTransport, resolveTransport } from '../gateway/gateway';
import { canonicalIp, isIpLiteral, validateLabels, validateNamespace } from '../k8s/names';
import { MTLS_SERVER_TLS } from '../keys/catalogue';
import { DirectoryKeyStore } from '../keys/directory-store';
import { accountSecretToken, validateExtraAccounts } from '../keys/layout';
import { NKeyKind, NKeyPublicKey } from '../keys/nkey';
import { CLUSTER_KEY_ENTRY, RotatableClusterKey } from '../keys/rotation';
import type { IKeyStore } from '../keys/store';
import { ClusterRole, EventBusCluster } from '../secrets/cluster';
import { EventBusSecrets } from '../secrets/event-bus-secrets';
import { MtlsServerTls } from '../secrets/mtls-server-tls';
import { testKeysLabels } from '../secrets/test-keys';
import type { ITlsSecretSource } from '../secrets/tls-secret';


/** NKey permission entries the upstream chart generates itself (auth-callout-permissions.yaml). */
const RESERVED_PERMISSIONS = ['nack-controller', 'surveyor', 'mtls-leaf', 'mtls-authx-leaf', 'mtls-sys-leaf'];
// rotation-<entry>: the entries this library adds while a key rotation is in progress.
const RESERVED_PERMISSION_PATTERNS = [/^leaf-cpc-/, /^leaf-[a-z0-9-]+-cpc-/, /^rotation-/];

/**
 * What a CSC and a CPC chart share: the Secrets, the certificates, the
 * gateway and the Helm values of one cluster, built from one set of options
 * so that they cannot disagree.
 */
export abstract class EventBusClusterChart extends Chart {
  /** The Secrets the upstream chart reads. */
  public readonly secrets: EventBusSecrets;
  /** The gateway, unless disabled. */
  public readonly gateway?: EventBusGateway;
  /** The gateway's server certificate, when cert-manager issues it. */
  public readonly serverCertificate?: ServerCertificate;
  /** The mTLS server certificate (`nats-mtls-server-tls`), when cert-manager issues it. */
  public readonly mtlsCertificate?: MtlsServerCertificate;
  /** Whether mTLS is enabled. */
  public readonly mtls: boolean;
  /** Namespace the upstream chart is installed in. */
  public readonly releaseNamespace: string;

  /** This chart's cluster: given to the constructor, a new value when a CSC gains a CPC (`_joinCpc`). */
  private currentCluster: EventBusCluster;
  private readonly extraAccountNames: string[];
  private readonly nkeyPermissions: NKeyPermission[];
  private readonly keys?: IKeyStore;
  private readonly extraAccountsValue: Record<string, Record<string, unknown>>;
  private readonly crossLayer?: CrossLayerSubjects;
  private readonly mqttStreams?: MqttStreamsOptions;
  private readonly authCallout: AuthCalloutOptions;
  /** Whether the gateway terminates TLS in front of NATS (clients must then speak TLS first). */
  private readonly terminatesTls: boolean;

  protected constructor(scope: Construct, id: string, cluster: EventBusCluster, options: EventBusClusterOptions, createLeafConnections: boolean) {
    const metadata = options.metadata ?? {};
    const namespace = chartNamespace(metadata);
    const labels = metadata.labels;
    // Made from a test key store: every object of the chart says so.
    super(scope, id, { namespace, labels: { ...labels, ...testKeysLabels(options.keys) }, disableResourceNameHashes: true });
    const where = this.node.path;
    checkChartMetadata(metadata, where);
    validateNamespace(namespace, `${where}: metadata.namespace`);
    // Chart labels go on every object: refuse what the API server would.
    validateLabels(labels ?? {}, `${where}: metadata.labels`);
    this.currentCluster = cluster;
    this.releaseNamespace = namespace;
    this.mtls = chartMtls(options);
    this.extraAccountNames = [...(options.extraAccounts ?? [])];
    validateExtraAccounts(this.extraAccountNames, `${where}: extraAccounts`);
    this.nkeyPermissions = [...(options.nkeyPermissions ?? [])];
    this.validatePermissions();
    this.keys = options.keys;
    this.extraAccountsValue = extraAccountValues(this.extraAccountNames, options.extraAccountSettings ?? {}, `${where}: extraAccountSettings`);
    if (options.crossLayer) validateCrossLayer(options.crossLayer, `${where}: crossLayer`);
    this.crossLayer = options.crossLayer;
    if (options.mqttStreams) validateMqttStreams(options.mqttStreams, `${where}: mqttStreams`);
    this.mqttStreams = options.mqttStreams;
    this.authCallout = options.authCallout ?? {};
    validateAuthCallout(this.authCallout, `${where}: authCallout`);

    const gw = options.gateway ?? {};
    checkHostnameLists(gw, where);
    const gatewayEnabled = gw.enabled ?? true;
    const transport = resolveTransport(gw.transport);
    const gatewayNamespace = gw.namespace ?? namespace;
    this.terminatesTls = gatewayEnabled && transport === GatewayTransport.TLS;

    // Certificates: one issuer for the gateway certificate and the mTLS server.
    // One issuer source, chosen by the ClusterCertificates factory.
    const certs = options.certificates;
    // A namespaced Issuer signs Certificates of its own namespace only: when
    // the gateway's certificate lives elsewhere, the issuer we create is a
    // ClusterIssuer so it can sign both certificates.
    const spansNamespaces = gatewayEnabled && transport === GatewayTransport.TLS && !gw.serverTlsSecret && gatewayNamespace !== namespace;
    let issuer: ICertificateIssuer | undefined = certs?.existingIssuer;
    if (certs?.kind === ClusterCertificatesKind.SELF_SIGNED) {
      issuer = new SelfSignedCaIssuer(this, 'Issuer', { caCommonName: caCommonName(cluster.displayName), clusterScoped: spansNamespaces });
    } else if (certs?.vaultIssuerProps) {
      const vault = certs.vaultIssuerProps;
      issuer = forwardedProps(`${where}/Issuer`, where, (f) => `certificates.vault.${f}`, () => new VaultIssuer(this, 'Issuer', { ...vault, clusterScoped: vault.clusterScoped ?? spansNamespaces }));
    } else if (certs?.ca) {
      issuer = new CaIssuer(this, 'Issuer', { ca: certs.ca, clusterScoped: spansNamespaces, delivery: options.delivery, cluster, metadata: { labels } });
    }
    const certOptions = { duration: certs?.duration, renewBefore: certs?.renewBefore, privateKey: certs?.privateKey };

    let terminateCertificate: ITlsSecretSource | undefined = gw.serverTlsSecret;
    if (gatewayEnabled && transport === GatewayTransport.TLS && !terminateCertificate) {
      if (!issuer) {
        throw problem({
          where,
          field: 'certificates',
          problem: 'the TLS gateway needs a server certificate, but there is no certificate issuer and no serverTlsSecret',
          allowed: 'certificates (ClusterCertificates.fleetCa, .issuer, .selfSigned or .vault), or gateway.serverTlsSecret',
          fix: 'set certificates to ClusterCertificates.fleetCa(CertificateAuthority.fromPemFiles(certFile, keyFile)) (one fleet CA that every CPC trusts), ClusterCertificates.issuer(CertificateIssuer.fromIssuerName("event-bus-certificate-issuer")) or ClusterCertificates.selfSigned(), or gateway.serverTlsSecret (ServerCertificate.fromSecretName(...)), or gateway.transport: GatewayTransport.TCP for an evaluation cluster',
        });
      }
      const dnsNames = gw.hostnames ?? [];
      const ipAddresses = gw.ipAddresses ?? [];
      if (dnsNames.length + ipAddresses.length === 0) {
        throw problem({
          where,
          field: 'gateway.hostnames',
          problem: 'the TLS gateway certificate has no names: gateway.hostnames and gateway.ipAddresses are both empty',
          fix: 'list the DNS names (gateway.hostnames) or IP addresses (gateway.ipAddresses) clients connect to',
        });
      }
      this.serverCertificate = forwardedProps(`${where}/ServerCertificate`, where, CERTIFICATE_FIELDS, () => new ServerCertificate(this, 'ServerCertificate', {
        ...certOptions, issuer, dnsNames, ipAddresses, metadata: { namespace: gatewayNamespace },
      }));
      terminateCertificate = this.serverCertificate;
    }

    let mtlsServerTls = options.mtlsServerTls;
    const mtlsHostnames = gw.mtlsHostnames ?? gw.hostnames ?? [];
    if (this.mtls && issuer && !mtlsServerTls) {
      const external = [...mtlsHostnames, ...(gw.mtlsHostnames ? [] : gw.ipAddresses ?? [])];
      if (external.length === 0) {
        throw problem({
          where,
          field: 'gateway.mtlsHostnames',
          problem: 'the mTLS server certificate has no external names: gateway.mtlsHostnames, gateway.hostnames and gateway.ipAddresses are all empty',
          fix: 'list the host of the mTLS client broker URL in gateway.mtlsHostnames (or gateway.hostnames), or disable mTLS with mtls: false',
        });
      }
      this.mtlsCertificate = forwardedProps(`${where}/MtlsServerCertificate`, where, CERTIFICATE_FIELDS, () => new MtlsServerCertificate(this, 'MtlsServerCertificate', { ...certOptions, issuer, externalHostnames: external }));
      mtlsServerTls = MtlsServerTls.fromTlsSecretSource(this.mtlsCertificate);
    }
    if (certs?.ca?.kind === CertificateAuthorityKind.INTERMEDIATE) {
      checkIntermediatePermits(certs.ca, [this.serverCertificate, this.mtlsCertificate], cluster.directory, where);
    }

    // An empty list checks nothing, exactly like no list (not an agreement with zero URLs).
    const mtlsClientUrls = gw.mtlsClientUrls?.length ? gw.mtlsClientUrls : undefined;
    if (this.mtls && mtlsClientUrls && !this.mtlsCertificate) {
      throw problem({
        where,
        field: 'gateway.mtlsClientUrls',
        problem: 'gateway.mtlsClientUrls is set, but the mTLS server certificate is not issued by cert-manager here, so its SANs cannot be checked',
        fix: 'set certificates (ClusterCertificates.issuer(...) or .selfSigned()) so the chart creates the nats-mtls-server-tls Certificate, or drop mtlsClientUrls',
      });
    }

    this.secrets = forwardedProps(`${where}/Secrets`, where, SECRETS_FIELDS, () => new EventBusSecrets(this, 'Secrets', {
      cluster,
      delivery: options.delivery,
      keys: options.keys,
      extraAccounts: this.extraAccountNames,
      mtls: this.mtls,
      mtlsServerTls,
      metadata: { namespace, labels },
      immutableSecrets: options.immutableSecrets,
      secretOverrides: options.secretOverrides,
      createLeafConnections,
    }));

    if (gatewayEnabled) {
      let envoyProxy: IEnvoyProxy | undefined;
      if (gw.envoyProxyName) {
        if (gw.envoy !== undefined) {
          throw problem({ where, field: 'gateway.envoy', problem: `it is set with gateway.envoyProxyName ${quote(gw.envoyProxyName)}, an EnvoyProxy that exists already and is not changed here`, fix: 'set these options on that EnvoyProxy, or remove envoyProxyName to create one' });
        }
        envoyProxy = EventBusEnvoyProxy.fromEnvoyProxyName(this, 'ExistingEnvoyProxy', gw.envoyProxyName, gatewayNamespace);
      } else {
        envoyProxy = forwardedProps(`${where}/EnvoyProxy`, where, (f) => `gateway.envoy.${f}`, () => new EventBusEnvoyProxy(this, 'EnvoyProxy', { ...gw.envoy, metadata: { namespace: gatewayNamespace } }));
      }
      this.gateway = forwardedProps(`${where}/Gateway`, where, GATEWAY_FIELDS, () => EventBusGateway.withEventBusListeners(this, 'Gateway', {
        metadata: { name: gw.name, namespace: gatewayNamespace },
        gatewayClassName: gw.gatewayClassName,
        envoyProxy,
        routeApiVersion: gw.routeApiVersion,
        routeRendering: gw.routeRendering,
        transport,
        certificate: transport === GatewayTransport.TLS ? terminateCertificate : undefined,
        addresses: [...(gw.hostnames ?? []), ...(gw.ipAddresses ?? [])],
        hostnames: transport === GatewayTransport.TLS && gw.hostnames?.length ? gw.hostnames : undefined,
        mtls: this.mtls,
        mtlsHostnames: this.mtls ? gw.mtlsHostnames ?? gw.hostnames : undefined,
      }));
      // The mTLS certificate and the route are both made from gateway.mtlsHostnames
      // (or hostnames): their agreement is checked here, where those values entered,
      // and reported in those props' terms.
      if (this.mtls && mtlsClientUrls && this.mtlsCertificate) {
        const ipField = gw.mtlsHostnames ? 'gateway.mtlsHostnames' : 'gateway.ipAddresses';
        // Unset, mtlsHostnames defaults to hostnames: that is the list the user wrote.
        const hostField = gw.mtlsHostnames ? 'gateway.mtlsHostnames' : 'gateway.hostnames';
        const [first, ...more] = hostnameAgreementProblems({
          where,
          certificatePath: MTLS_SERVER_TLS,
          dnsNames: this.mtlsCertificate.dnsNames,
          ipAddresses: this.mtlsCertificate.ipAddresses,
          routeHostnames: gw.mtlsHostnames ?? gw.hostnames ?? [],
          clientUrls: mtlsClientUrls,
          listenerPort: this.gateway.eventBusListeners!.mqttMtls!.port,
          names: { certificateDnsNames: hostField, certificateIpAddresses: ipField, routeHostnames: hostField, clientUrls: 'gateway.mtlsClientUrls' },
        });
        if (first) throw problem({ ...first, details: more.map((p) => formatProblem({ problem: p.problem, fix: p.fix })) });
      }
    }

    if (options.hostPrerequisites) {
      new HostPrerequisites(this, 'HostPrerequisites', { metadata: { namespace } });
    }
  }

  /** Which cluster this chart is for (a CSC's `cpcIds` grow with `CscChart.addCpc`). */
  public get cluster(): EventBusCluster {
    return this.currentCluster;
  }

  /**
   * This CSC chart gains a CPC: its own cluster value first, then its
   * Secrets are told (the value flows down; nothing is read back).
   * @internal
   */
  protected _joinCpc(cpc: EventBusCluster, where: string): void {
    this.currentCluster = this.currentCluster._withCpc(cpc, where);
    this.secrets.addCpc(cpc);
  }

  /** The extra accounts of this cluster. */
  public get extraAccounts(): string[] {
    return [...this.extraAccountNames];
  }

  /**
   * The Helm values for the upstream chart (`global.eventBus`), derived from
   * the same objects as the manifests: cluster identity, mTLS, extra accounts,
   * the gateway routes (disabled where this library renders them) and the
   * Secret reference overrides.
   */
  public helmValues(): any {
    const eventBus: Record<string, unknown> = {
      clusterType: this.cluster.role,
      ...this.roleValues(),
      mtls: { enabled: this.mtls },
      extraAccounts: this.extraAccountsValue,
      gateway: { routes: this.routeValues() },
    };
    const crossLayer = this.crossLayer ? crossLayerValues(this.crossLayer) : {};
    if (Object.keys(crossLayer).length) eventBus.crossLayer = crossLayer;
    const streams = this.mqttStreams ? mqttStreamsValues(this.mqttStreams) : {};
    if (Object.keys(streams).length) eventBus.mqttStreams = streams;
    const overrides = this.secrets.nkeySecretRefOverrides();
    if (Object.keys(overrides).length) eventBus.nkeySecretRefOverrides = overrides;
    const permissions = [...this.nkeyPermissions, ...this.rotationPermissions()];
    if (permissions.length) {
      eventBus.auth = {
        permissions: {
          nkey: Object.fromEntries(permissions.map((p) => [p.name, {
            public_key: p.publicKey,
            account: p.account,
            ...(p.publishAllow || p.subscribeAllow ? {
              permissions: {
                ...(p.publishAllow ? { pub: { allow: p.publishAllow } } : {}),
                ...(p.subscribeAllow ? { sub: { allow: p.subscribeAllow } } : {}),
              },
            } : {}),
          }])),
        },
      };
    }
    return mergeValues({ global: { eventBus }, ...this.commonSubchartValues() }, this.subchartValues(), this.authCalloutUserValues());
  }

  /**
   * The key store this chart reads (for the output layer's inputs digest).
   * @internal
   */
  public get _keyStore(): IKeyStore | undefined {
    return this.keys;
  }

  /** {@link helmValues} as a YAML document, with a header naming its source. */
  public valuesYaml(): string {
    let header = `# Helm values for the DSX Event Bus chart (${this.cluster.displayName}), generated by cdk8s-dsx-event-bus.\n`
      + '# Install with: helm install nats-event-bus <chart> -n ' + this.releaseNamespace + ' -f values.event-bus.yaml\n';
    if (this.terminatesTls) {
      header += '#\n'
        + `# The gateway terminates TLS on nats-client (4222) and nats-leafnode (${NATS_LEAFNODE_PORT}) and forwards plain TCP,\n`
        + '# so NATS clients and leaf remotes must start with the TLS handshake (TLS-first) and trust the CA\n'
        + '# of the gateway certificate; a client that waits for the server\'s INFO first never connects.\n'
        + '# e.g. nats --tlsfirst --tlsca ca.crt, nats.go TLSHandshakeFirst(), nats.js tls: { handshakeFirst: true }.\n'
        + '# https://docs.nats.io/running-a-nats-service/configuration/securing_nats/tls (TLS-first handshake)\n';
    }
    if (this.keys?.testOnly === true) {
      header += '#\n'
        + `# TEST KEYS: made from ${this.keys.description}; anyone can derive its seeds.\n`
        + '# Never install these values on a cluster that matters.\n';
    }
    header += this.deployerNote();
    return header + manifestYaml(this.helmValues());
  }

  /**
   * Chart values this library does not set and the deployer must (in another
   * values file), e.g. the auth-callout image when `authCallout.image` is not given.
   */
  public get unsetDeployerValues(): string[] {
    return deployerValues(this.authCallout);
  }

  private deployerNote(): string {
    const lines = this.unsetDeployerValues;
    if (!lines.length) return '';
    return '#\n# Not set here; the deployer sets these in another -f values file:\n'
      + lines.map((l) => `#   - ${l}\n`).join('');
  }

  /**
   * Values of the subcharts (`nack`, `surveyor`, `auth-callout`) that every
   * cluster may set, whatever its role; a top-level key names one subchart.
   */
  private commonSubchartValues(): Record<string, unknown> {
    const authCallout = authCalloutValues(this.authCallout);
    return { ...this.secrets.subchartSecretValues(), ...(Object.keys(authCallout).length ? { 'auth-callout': authCallout } : {}) };
  }

  /** `clusterId`/`cscEndpoint` (CPC) or `cpcIds` (CSC). */
  protected abstract roleValues(): Record<string, unknown>;

  /** Values of the subcharts (top-level keys beside `global`) that only one role sets. */
  protected subchartValues(): Record<string, unknown> {
    return {};
  }

  private routeValues(): Record<string, unknown> {
    if (this.gateway) return this.gateway.routesHelmValues();
    // No gateway: the chart must not create routes to a Gateway that does not exist.
    return { mqtt: { enabled: false }, natsClient: { enabled: false }, natsLeafnode: { enabled: false }, mqttMtls: { enabled: false } };
  }

  /**
   * One auth-callout entry per key this cluster accepts beside the layout's
   * while a rotation is in progress (the new key in overlap, the old one when
   * switched), in the account of the chart-generated entry it stands beside.
   */
  private rotationPermissions(): NKeyPermission[] {
    if (!(this.keys instanceof DirectoryKeyStore)) return [];
    const cluster = this.cluster;
    const dcAccount = cluster.role === ClusterRole.CSC ? 'CSC' : 'CPC';
    const out: NKeyPermission[] = [];
    for (const k of this.keys.acceptedRotationKeys(cluster.directory)) {
      if (k.generatedEntry === CLUSTER_KEY_ENTRY[RotatableClusterKey.AUTH_CALLOUT_USER]) continue; // NATS accepts it, see authCalloutUserValues
      const leaf = /^leaf-(?:[a-z0-9]+-)?cpc-([a-z0-9]+)$/.exec(k.generatedEntry);
      let account: string | undefined;
      if (leaf) {
        if (cluster.role !== ClusterRole.CSC || !cluster.cpcIds.includes(leaf[1])) continue;
        account = k.accountToken ? this.extraAccountNames.find((a) => accountSecretToken(a) === k.accountToken) : 'CSC';
      } else if (k.generatedEntry.startsWith('mtls-') && !this.mtls) {
        continue; // the chart renders no mTLS entries (nor nats-mtls) without mTLS
      } else {
        account = { 'nack-controller': dcAccount, 'mtls-leaf': dcAccount, 'surveyor': 'SYS', 'mtls-sys-leaf': 'SYS', 'mtls-authx-leaf': 'AUTHX' }[k.generatedEntry];
      }
      if (account !== undefined) out.push({ name: k.permissionName, publicKey: k.publicKey, account });
    }
    return out;
  }

  /**
   * While the auth-callout user (`nats-authx-user`) rotates, NATS itself
   * accepts both keys: the chart's AUTHX `users` and `auth_callout.auth_users`
   * lists (values.yaml of the chart, `nats.config.merge` and
   * `nats-mtls.config.merge`) are replaced by the current and the new key,
   * both written as literals so that the config does not depend on which
   * key a pod's `AUTHX_USER_NKEY` env holds (nats-server refuses a
   * duplicate nkey, and the env changes only when the pod restarts). Done,
   * the chart's own lists (the env reference) come back.
   * https://github.com/NVIDIA/dsx-exchange/blob/main/deploy/nats-event-bus/values.yaml
   */
  private authCalloutUserValues(): Record<string, unknown> {
    if (!(this.keys instanceof DirectoryKeyStore)) return {};
    const entry = CLUSTER_KEY_ENTRY[RotatableClusterKey.AUTH_CALLOUT_USER];
    const extra = this.keys.acceptedRotationKeys(this.cluster.directory).find((k) => k.generatedEntry === entry);
    if (!extra) return {};
    const current = this.keys.readPublicKey(this.cluster.directory, RotatableClusterKey.AUTH_CALLOUT_USER).value;
    const users = [current, extra.publicKey].sort();
    const authorization = { auth_callout: { auth_users: users } };
    return {
      nats: { config: { merge: { accounts: { AUTHX: { users: users.map((nkey) => ({ nkey })) } }, authorization } } },
      ...(this.mtls ? { 'nats-mtls': { config: { merge: { authorization } } } } : {}),
    };
  }

  private validatePermissions(): void {
    const where = `${this.node.path}: nkeyPermissions`;
    // A CPC's NATS has the account CSC too: its leaf to the CSC binds to it
    // (templates/nats-accounts-config.yaml renders CSC and CPC there).
    const dcAccounts = this.cluster.role === ClusterRole.CSC ? ['CSC'] : ['CPC', 'CSC'];
    const accounts = [...dcAccounts, 'SYS', 'AUTHX', ...this.extraAccountNames];
    const seen = new Set<string>();
    for (const p of this.nkeyPermissions) {
      if (RESERVED_PERMISSIONS.includes(p.name) || RESERVED_PERMISSION_PATTERNS.some((r) => r.test(p.name))) {
        throw problem({
          where,
          problem: `permission name ${quote(p.name)} is reserved: the chart generates an entry of that name for its own users and yours would replace it`,
          allowed: `any name except ${RESERVED_PERMISSIONS.join(', ')}, leaf-cpc-<id>, leaf-<account>-cpc-<id> and rotation-<name>`,
          fix: 'rename the entry',
        });
      }
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(p.name)) {
        throw problem({ where, problem: `permission name ${quote(p.name)} is invalid`, allowed: 'letters, digits, ".", "_" and "-", starting with a letter or digit', fix: 'rename the entry' });
      }
      if (seen.has(p.name)) throw problem({ where, problem: `permission ${quote(p.name)} is listed twice`, fix: 'list each entry once' });
      seen.add(p.name);
      NKeyPublicKey.parse(p.publicKey, `${where}.${p.name}.publicKey`, NKeyKind.USER);
      for (const [field, subjects] of [['publishAllow', p.publishAllow], ['subscribeAllow', p.subscribeAllow]] as const) {
        for (const subject of subjects ?? []) validateSubject(subject, `${where}.${p.name}.${field}`);
      }
      if (!accounts.includes(p.account)) {
        throw problem({
          where: `${where}.${p.name}`,
          problem: `account ${quote(p.account)} does not exist on ${this.cluster.displayName}`,
          allowed: accounts.join(', '),
          fix: 'use one of those accounts, or add the account to extraAccounts',
        });
      }
    }
  }
}

/** The chart's props behind the props of the certificates it makes. */
const CERTIFICATE_FIELDS = renamedProps({
  duration: 'certificates.duration',
  renewBefore: 'certificates.renewBefore',
  privateKey: 'certificates.privateKey',
  issuer: 'certificates.issuer',
  dnsNames: 'gateway.hostnames',
  ipAddresses: 'gateway.ipAddresses',
  externalHostnames: 'gateway.mtlsHostnames',
});

/** The chart's props behind the props of its EventBusSecrets. */
const SECRETS_FIELDS = renamedProps({
  delivery: 'delivery',
  keys: 'keys',
  extraAccounts: 'extraAccounts',
  mtlsServerTls: 'mtlsServerTls',
  immutableSecrets: 'immutableSecrets',
  secretOverrides: 'secretOverrides',
});

/** The chart's props behind the props of its gateway. */
const GATEWAY_FIELDS = renamedProps({
  gatewayClassName: 'gateway.gatewayClassName',
  routeApiVersion: 'gateway.routeApiVersion',
  routeRendering: 'gateway.routeRendering',
  transport: 'gateway.transport',
  certificate: 'gateway.serverTlsSecret',
  hostnames: 'gateway.hostnames',
  mtlsHostnames: 'gateway.mtlsHostnames',
});

/**
 * IP addresses belong in `gateway.ipAddresses`: a DNS-name list would put
 * them into DNS SANs and TLSRoute hostnames, which clients never match by IP.
 */
/** The fields a chart applies to every object (cdk8s ChartProps); others would be dropped silently. */
const CHART_METADATA_FIELDS = ['namespace', 'labels'];

/** `metadata` holds only what a chart applies: an object name or annotations would be dropped, so they are refused. */
function checkChartMetadata(metadata: object, where: string): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw problem({ where, field: 'metadata', problem: `it is ${quote(metadata)}, not an object`, allowed: '{ namespace?, labels? }', fix: 'pass e.g. metadata: { namespace: "dsx", labels: { team: "platform" } }' });
  }
  const other = Object.keys(metadata).filter((k) => !CHART_METADATA_FIELDS.includes(k) && (metadata as Record<string, unknown>)[k] !== undefined);
  if (other.length) {
    throw problem({
      where,
      field: `metadata.${other[0]}`,
      problem: `a cluster chart does not apply ${other.map(quote).join(', ')}: it makes many objects, each named as the upstream chart expects, and applies the chart's namespace and labels to all of them`,
      allowed: CHART_METADATA_FIELDS.map((f) => `metadata.${f}`).join(', '),
      fix: `remove metadata.${other[0]} (to annotate one object, call metadata.addAnnotation on its ApiObject)`,
    });
  }
}

function checkHostnameLists(gw: ClusterGatewayOptions, where: string): void {
  const name = (gw.ipAddresses ?? []).find((a) => typeof a !== 'string' || !isIpLiteral(a));
  if (name !== undefined) {
    throw problem({
      where,
      field: 'gateway.ipAddresses',
      problem: `${quote(name)} is not an IP address`,
      allowed: 'IPv4 or IPv6 literals in gateway.ipAddresses; DNS names in gateway.hostnames',
      fix: `move ${quote(name)} to gateway.hostnames`,
    });
  }
  for (const field of ['hostnames', 'mtlsHostnames'] as const) {
    const ip = (gw[field] ?? []).find((h) => typeof h === 'string' && isIpLiteral(h));
    if (ip === undefined) continue;
    throw problem({
      where,
      field: `gateway.${field}`,
      problem: `${quote(ip)} is an IP address, not a DNS name`,
      allowed: `DNS names in gateway.${field}; IP addresses in gateway.ipAddresses (clients match an IP only against IP SANs, and send no SNI)`,
      fix: field === 'hostnames'
        ? `move ${quote(ip)} to gateway.ipAddresses`
        : `remove ${quote(ip)}; for mTLS clients that connect by IP, list it in gateway.ipAddresses and leave gateway.mtlsHostnames unset (the mTLS certificate then carries gateway.hostnames and gateway.ipAddresses)`,
    });
  }
}

/**
 * `dsx-event-bus <cluster> CA`, shortened to the 64 characters X.509 allows:
 * a long CPC id is valid, and the CA's name is only informational.
 */
function caCommonName(displayName: string): string {
  const cn = `dsx-event-bus ${displayName} CA`;
  return cn.length <= 64 ? cn : `dsx-event-bus ${displayName.slice(0, 64 - 'dsx-event-bus ... CA'.length)}... CA`;
}

/**
 * An intermediate CA signs only what its name constraints permit: a
 * Certificate of this cluster with another name would be issued by
 * cert-manager and refused by every client, so it is refused here.
 */
function checkIntermediatePermits(
  ca: CertificateAuthority, certificates: Array<ServerCertificate | undefined>, cluster: string, where: string,
): void {
  const permitted = describeIntermediate(ca.certificatePem!);
  if (!permitted) return; // not name-constrained: nothing to check
  const dnsOk = (name: string) => {
    const n = name.replace(/^\*\./, '').toLowerCase();
    return permitted.dnsNames.some((c) => n === c || n.endsWith(`.${c}`));
  };
  const ipOk = (ip: string) => permitted.ipAddresses.includes(canonicalIp(ip));
  for (const cert of certificates) {
    if (!cert) continue;
    const refused = [...cert.dnsNames.filter((n) => !dnsOk(n)), ...cert.ipAddresses.filter((ip) => !ipOk(ip))];
    if (refused.length === 0) continue;
    throw problem({
      where,
      problem: `certificates.ca is an intermediate whose name constraints permit ${[...permitted.dnsNames, ...permitted.ipAddresses].map(quote).join(', ') || 'no names'}, `
        + `but ${cert.node.id} asks for ${refused.map(quote).join(', ')}: cert-manager would issue it and every client would refuse it`,
      allowed: `an intermediate issued for ${cluster}'s current names`,
      fix: `reissue ${cluster}'s intermediate for its names (dsx-event-bus synth reissues it when they change), or correct the names`,
    });
  }
}

/** Merges Helm values maps (later wins; maps merge, lists and scalars replace), as Helm merges values files. */
function mergeValues(...maps: Array<Record<string, unknown>>): Record<string, unknown> {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const out: Record<string, unknown> = {};
  for (const m of maps) {
    for (const [k, v] of Object.entries(m)) out[k] = isMap(out[k]) && isMap(v) ? mergeValues(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/**
 * The `cluster` prop of a CSC or CPC chart, refused when missing or of the
 * other role (its id was checked where it entered: `EventBusCluster.csc/cpc`).
 */
export function roleChecked(scope: Construct, id: string, cluster: EventBusCluster | undefined, role: ClusterRole): EventBusCluster {
  const where = `${scope.node.path ? scope.node.path + '/' : ''}${id}`;
  const want = role === ClusterRole.CSC ? 'EventBusCluster.csc({ cpcIds })' : 'EventBusCluster.cpc(id)';
  if (!(cluster instanceof EventBusCluster)) {
    throw problem({ where, field: 'cluster', problem: cluster === undefined ? 'it is missing' : `${quote(cluster)} is not an EventBusCluster`, fix: `pass cluster: ${want}` });
  }
  if (cluster.role !== role) {
    throw problem({ where, field: 'cluster', problem: `it is ${cluster.displayName}, but this chart is for ${role === ClusterRole.CSC ? 'the CSC' : 'a CPC'}`, fix: `pass cluster: ${want}` });
  }
  return cluster;
}
