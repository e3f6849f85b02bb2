import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { FleetSynthResult, synthesizeOutput } from './app';
import { AuthCalloutOptions, MqttStreamsOptions } from './chart-values';
import { EventBusClusterChart } from './cluster-chart';
import { CpcChart } from './cpc-chart';
import { CscChart } from './csc-chart';
import { canonical, canonicalClasses } from './inputs';
import { chartMtls, chartNamespace, ClusterChartMetadata, ClusterGatewayOptions, EventBusClusterOptions, NKeyPermission } from './options';
import { CertificateAuthority, CertificateAuthorityKind } from '../certificates/ca-issuer';
import { ClusterCertificates, ClusterCertificatesKind } from '../certificates/cluster-certificates';
import { LeafTrust, LeafTrustKind } from '../certificates/leaf-trust';
import type { IntermediateNames } from '../certificates/name-constraints';
import { LeafConnection } from '../connections/leaf-connection';
import { Endpoint, formatUrl, parseLeafEndpoint } from '../endpoint';
import { forwardedProps, problem, quote } from '../errors';
import type { LeafnodeEndpoint } from '../gateway/gateway';
import { GitOps } from '../gitops/gitops';
import { checkDestinations, GitOpsWiring } from '../gitops/wiring';
import { canonicalIp, isIpLiteral } from '../k8s/names';
import { validateExtraAccounts } from '../keys/layout';
import type { KeyStoreRequest } from '../keys/store';
import { ClusterRole, EventBusCluster } from '../secrets/cluster';
import { SecretsDelivery, SecretsDeliveryKind } from '../secrets/delivery';
import { SecretOverride } from '../secrets/event-bus-secrets';
import { clusterSecretDefs, leafSecretDefs } from '../secrets/inventory';
import { MtlsServerTls } from '../secrets/mtls-server-tls';

// Value classes whose own fields are their whole state (checked: no closures,
// files read by their factories): the inputs digest may look into them.
canonicalClasses(SecretsDelivery, LeafTrust, CertificateAuthority, MtlsServerTls, ClusterCertificates);

/** Per-cluster settings of a fleet member, merged over the fleet's. */
export interface FleetClusterOptions {
  /**
   * Gateway settings of this cluster; each field given here replaces the
   * fleet's (`hostnames` are typically per cluster).
   * @default - the fleet's gateway settings
   */
  readonly gateway?: ClusterGatewayOptions;
  /**
   * This cluster's namespace and labels, merged per field over the fleet's
   * `metadata`: its namespace replaces the fleet's, its labels are added to
   * the fleet's.
   * @default - the fleet's metadata
   */
  readonly metadata?: ClusterChartMetadata;
  /**
   * User NKey permissions of this cluster (on top of the fleet's).
   * @default - the fleet's
   */
  readonly nkeyPermissions?: NKeyPermission[];
  /**
   * Where this cluster's `nats-mtls-server-tls` comes from (each cluster has
   * its own server certificate).
   * @default - the fleet's `mtlsServerTls`
   */
  readonly mtlsServerTls?: MtlsServerTls;
  /**
   * Secret name/key overrides of this cluster only, for a Secret it has (a
   * CPC's `nats-leaf-csc`, the CSC's `nats-leaf-cpc-<id>`, or one cluster's
   * copy of a per-cluster Secret). An override of a Secret the fleet also
   * overrides replaces the fleet's.
   * @default - the fleet's `secretOverrides`
   */
  readonly secretOverrides?: SecretOverride[];
  /**
   * This cluster's MQTT streams instead of the fleet's (e.g. fewer replicas
   * on a smaller NATS cluster).
   * @default - the fleet's `mqttStreams`
   */
  readonly mqttStreams?: MqttStreamsOptions;
  /**
   * This cluster's auth-callout settings instead of the fleet's (e.g. an
   * image from the cluster's own registry).
   * @default - the fleet's `authCallout`
   */
  readonly authCallout?: AuthCalloutOptions;
  /**
   * Where the GitOps engine deploys this cluster (with the fleet's `gitops`):
   * an Argo CD cluster name or API server URL (`https://...`); for Flux, the
   * cluster whose Flux applies it (its files go to
   * `gitops/flux/<gitopsDestination>/`).
   * @default - the cluster folder's name (`csc`, `cpc-<id>`)
   */
  readonly gitopsDestination?: string;
  /**
   * This cluster's intermediate CA, signed by the fleet's `certificates.ca`
   * (the root): this cluster's CA issuer signs with it, so the root's key
   * never enters a cluster. Required for every cluster when the root's key
   * would otherwise be delivered inline. `dsx-event-bus synth` issues one
   * per cluster, name-constrained to that cluster's names
   * (`<key store>/ca/clusters/<cluster>/`).
   * @default - the fleet's `certificates.ca` (allowed only when its key does not reach the output)
   */
  readonly intermediateCa?: CertificateAuthority;
}

/** One CPC of a fleet. */
export interface FleetCpcOptions extends FleetClusterOptions {
  /** The CPC's id (`^[a-z0-9]+$`). */
  readonly id: string;
  /**
   * The CSC's leafnode URL for this CPC.
   * @default - the fleet's `cscEndpoint`, else derived from the CSC gateway:
   * its `nats-leafnode` listener at the first hostname or IP,
   * `tls://<host>:<leafnode port>` (`nats://` for a TCP gateway)
   */
  readonly cscEndpoint?: string;
  /**
   * The CA this CPC trusts for the CSC gateway's certificate.
   * @default - the fleet's `cscTrust`
   */
  readonly cscTrust?: LeafTrust;
}

/** Props of {@link EventBusFleet}. */
export interface EventBusFleetProps extends EventBusClusterOptions {
  /**
   * Settings of the CSC.
   * @default - the fleet's settings
   */
  readonly csc?: FleetClusterOptions;
  /** The CPCs; the CSC's `cpcIds` are exactly these ids, in this order. */
  readonly cpcs: FleetCpcOptions[];
  /**
   * The CSC's leafnode URL for every CPC that does not set its own.
   * @default - derived from the CSC gateway (see FleetCpcOptions.cscEndpoint)
   */
  readonly cscEndpoint?: string;
  /**
   * The CA every CPC trusts for the CSC gateway's certificate when its leaf
   * remote goes through the CSC's TLS-terminating `nats-leafnode` listener
   * (`tls://` endpoint; see CpcChartProps.cscTrust). Not allowed when the
   * CSC gateway's transport is `tcp`.
   * @default - with `certificates.ca` whose certificate is known, that CA
   * certificate (`LeafTrust.fromPem`); otherwise LeafTrust.publicRoots()
   */
  readonly cscTrust?: LeafTrust;
  /**
   * How a GitOps engine deploys the fleet from git (`GitOps.argoCd(...)`,
   * `GitOps.flux(...)`): synth then also writes each cluster folder's
   * `kustomization.yaml` and the engine's objects under `gitops/`, which
   * deploy every cluster's manifests, healthy, before the chart.
   * @default - no GitOps wiring: apply the manifests, then helm install
   */
  readonly gitops?: GitOps;
}

export { VALUES_FILE } from './app';

/**
 * One CSC and N CPCs from one description: the CSC's `cpcIds` are the CPC
 * charts, every CPC is joined to the CSC by a `LeafConnection` (one key pair
 * per CPC, plus one per extra account), and extra accounts, mTLS and the
 * delivery strategy are the same everywhere.
 *
 * In an {@link EventBusApp}, `app.synth()` (and so `cdk8s synth`) writes one
 * folder per cluster (`csc/`, `cpc-<id>/`), each with `manifests/` (one file
 * per object) and `values.event-bus.yaml` for the upstream Helm chart: a
 * layout an Argo CD ApplicationSet can iterate. `fleet.synth(outdir)` writes
 * the same for this fleet alone (always the guarded way: all or nothing,
 * under a lock, your files stay; see {@link EventBusApp} for `cdk8s synth`).
 */
export class EventBusFleet extends Construct {
  /** The CSC chart. */
  public readonly csc: CscChart;
  /** The CPC charts, in the given order (then those of {@link addCpc}). */
  public readonly cpcs: CpcChart[] = [];
  /** One connection per CPC. */
  public readonly leafConnections: LeafConnection[] = [];
  /** How the fleet is deployed from git, when it is. */
  public readonly gitops?: GitOps;

  private readonly props: EventBusFleetProps;
  /** The fleet's path: where its errors are reported, each with the prop path of these props. */
  private readonly where: string;
  private readonly cscGateway: ClusterGatewayOptions;
  private readonly defaultTrust?: LeafTrust;
  private readonly cscSelfSigned: boolean;
  private wiring?: GitOpsWiring;
  /** The CSC certificate's issuer when the library did not make it (its CA is unknown here). */
  private readonly cscForeignIssuer?: string;
  /** The options each CPC chart was made from, and those of addCpc in order. */
  private readonly memberOptions = new Map<CpcChart, FleetCpcOptions>();
  private readonly added: FleetCpcOptions[] = [];
  /** Objects in each chart when the fleet had built it: more at synthesis means someone else added one. */
  private readonly builtObjects = new Map<EventBusClusterChart, number>();

  constructor(scope: Construct, id: string, props: EventBusFleetProps) {
    super(scope, id);
    const where = this.node.path || id;
    this.where = where;
    const ids = (props.cpcs ?? []).map((c) => c.id);
    // The fleet's ids and accounts are checked here, where they enter. Every
    // error names the prop path of these props (`cpcs[1].id`, `csc.gateway.hostnames`);
    // the CLI maps it to the fleet file's (`clusters[2].id`).
    const cluster = EventBusCluster._csc(ids, (i) => `${where}: cpcs[${i}].id`, `${where}: cpcs`);
    const accountTokens = validateExtraAccounts(props.extraAccounts ?? [], `${where}: extraAccounts`);
    checkFleetOverrides(props, cluster, accountTokens, where);
    checkIntermediates(props, where);
    // Sealing needs each cluster's own controller certificate: named at the fleet's delivery, before any chart is built.
    if (props.delivery?.kind === SecretsDeliveryKind.SEALED_SECRETS) {
      const sealed = props.delivery._sealedClusters;
      const missing = [cluster.directory, ...cluster.cpcs.map((c) => c.directory)].filter((d) => !sealed.includes(d));
      if (missing.length) {
        throw problem({
          where,
          field: 'delivery',
          problem: `sealedSecrets delivery has no certificate for ${missing.join(', ')} (it has ${sealed.join(', ') || 'none'})`,
          allowed: 'one certificate per cluster: each cluster\'s sealed-secrets controller unseals with its own key',
          fix: `give the sealedSecrets delivery a certificate for ${missing.join(', ')} (the PEM that kubeseal --fetch-cert prints against that cluster): certificates[${quote(missing[0])}]`,
        });
      }
    }
    // No key is read here: the charts record what they need and the store is
    // ensured once for the whole fleet at synthesis (KeyMaterial).
    this.props = props;
    const cscOptions = merge(props, props.csc);
    this.csc = forwardedProps(`${where}/${cluster.directory}`, where, memberField(props, props.csc, 'csc'), () => new CscChart(this, cluster.directory, { ...cscOptions, cluster }));
    this.cscGateway = cscOptions.gateway ?? {};
    this.defaultTrust = defaultCscTrust(props, this.cscGateway);
    this.cscSelfSigned = !this.cscGateway.serverTlsSecret && cscOptions.certificates?.kind === ClusterCertificatesKind.SELF_SIGNED;
    this.cscForeignIssuer = foreignIssuer(cscOptions, this.csc);
    const cpcClusters = cluster.cpcs;
    props.cpcs.forEach((cpc, i) => this.addCpcChart(cpc, cpcClusters[i], `cpcs[${i}]`));
    if (props.gitops) {
      this.gitops = props.gitops;
      // Checked where they enter, named by the prop path (the CLI maps it to the file's).
      const entries = [
        { directory: cluster.directory, destination: props.csc?.gitopsDestination, field: `${this.where}: csc.gitopsDestination` },
        ...cpcClusters.map((c, i) => ({ directory: c.directory, destination: props.cpcs[i].gitopsDestination, field: `${this.where}: cpcs[${i}].gitopsDestination` })),
      ];
      checkDestinations(props.gitops._settings.kind, entries);
      const destinations: Record<string, string> = {};
      for (const e of entries) if (e.destination !== undefined) destinations[e.directory] = e.destination;
      this.wiring = new GitOpsWiring(this, 'GitOps', { gitops: props.gitops, destinations });
    }
    for (const c of this.charts) this.countBuilt(c);
  }

  private countBuilt(chart: EventBusClusterChart): void {
    this.builtObjects.set(chart, chart.node.findAll().filter((c) => c instanceof ApiObject).length);
  }

  /**
   * What each chart of the fleet is built from, as canonical text (for the
   * output layer's inputs digest; keys are the key store's part): the
   * fleet's props but the key store, and for a CPC its own options (every
   * CPC's for the CSC). Undefined for a chart whose inputs cannot be told
   * from the props: one holding another number of objects than the fleet
   * built (something else added one), or props holding a function, a
   * construct or an object of another kind.
   * `objects` is the number of objects each chart holds now.
   * @internal
   */
  public _clusterInputs(objects: ReadonlyMap<EventBusClusterChart, number>): Map<EventBusClusterChart, string | undefined> {
    const { keys: _keys, cpcs, ...common } = this.props;
    const shared = canonical({ path: this.node.path, common });
    const out = new Map<EventBusClusterChart, string | undefined>();
    for (const chart of this.charts) {
      if (shared === undefined || objects.get(chart) !== this.builtObjects.get(chart)) {
        out.set(chart, undefined);
        continue;
      }
      const own = chart === this.csc
        ? canonical({ cpcs, added: this.added, cpcIds: this.csc.cpcIds })
        : canonical({ cpc: this.memberOptions.get(chart as CpcChart) });
      out.set(chart, own === undefined ? undefined : `${chart.constructor.name} ${chart.node.path}\n${shared}\n${own}`);
    }
    return out;
  }

  /**
   * Adds a CPC to the fleet, with the fleet's settings merged under its own:
   * its id joins the CSC's `cpcIds` and a `LeafConnection` joins its leaf
   * pairs to the CSC.
   * @returns the new CPC's chart
   */
  public addCpc(options: FleetCpcOptions): CpcChart {
    const where = `${this.where}: addCpc`;
    if (this.csc.cpcIds.includes(options?.id)) {
      throw problem({ where, field: 'id', problem: `CPC id ${quote(options.id)} is already in the fleet`, fix: 'give each CPC its own id' });
    }
    // The id enters here: checked once, then it travels as a value.
    const cpc = EventBusCluster._cpc(options?.id, `${where}: id`);
    const wiring = this.wiring;
    if (wiring) {
      const directory = cpc.directory;
      checkDestinations(wiring.settings.kind, [
        ...this.charts.map((c) => ({ directory: c.cluster.directory, destination: wiring.destination(c.cluster.directory), field: this.where })),
        { directory, destination: options.gitopsDestination, field: `${where}: gitopsDestination` },
      ]);
      if (options.gitopsDestination !== undefined) wiring.setDestination(directory, options.gitopsDestination);
    }
    this.csc.addCpc(cpc);
    const chart = this.addCpcChart(options, cpc, `addCpc(${quote(options.id)})`);
    this.added.push(options);
    this.countBuilt(this.csc);
    this.countBuilt(chart);
    return chart;
  }

  /** `member`: the prop path of this CPC's options (`cpcs[0]`, or the addCpc call); `cluster`: the CPC, its id checked where it entered. */
  private addCpcChart(cpc: FleetCpcOptions, cluster: EventBusCluster, member: string): CpcChart {
    const props = this.props;
    const where = this.where;
    const field = memberField(props, cpc, member, { cluster: 'id' });
    const cpcDir = cluster.directory;
    // The CSC's gateway owns its leaf endpoint (listener, port, addresses): asked, not re-derived.
    const cscLeafnode = this.csc.gateway?.leafnodeEndpoint;
    const endpoint = cpc.cscEndpoint ?? props.cscEndpoint ?? cscLeafnode?.url;
    const endpointField = field('cscEndpoint')!;
    this.checkEndpointAgainstCsc(parseLeafEndpoint(endpoint, `${where}: ${endpointField}`), endpoint!, endpointField, cscLeafnode);
    // A default trust only for a tls:// endpoint: with nats:// there is no TLS to trust.
    const cscTrust = cpc.cscTrust ?? props.cscTrust ?? (endpoint!.startsWith('tls://') ? this.defaultTrust : undefined);
    // A CA cert-manager makes inside the CSC is known to no one at synth
    // time: neither the public roots nor a PEM given here can be it, and the
    // leaf would fail at run time with "certificate signed by unknown authority".
    const trustCanMatch = cscTrust?.kind === LeafTrustKind.SECRET || cscTrust?.kind === LeafTrustKind.CONFIG_MAP;
    if (endpoint!.startsWith('tls://') && this.cscSelfSigned && !trustCanMatch) {
      throw problem({
        where,
        field: memberField(props, props.csc, 'csc')('certificates'),
        problem: `the CSC's gateway certificate comes from ClusterCertificates.selfSigned(), a CA that cert-manager makes inside the CSC cluster, so CPC ${quote(cpc.id)} cannot know it `
          + `(its trust is ${cscTrust ? `LeafTrust ${cscTrust.kind}` : 'the public roots'}) and its leaf to ${quote(endpoint)} would never verify`,
        allowed: 'one fleet CA (ClusterCertificates.fleetCa(...)) that every CPC trusts by default, or an explicit cscTrust',
        fix: 'replace ClusterCertificates.selfSigned() with ClusterCertificates.fleetCa(CertificateAuthority.fromPemFiles(certFile, keyFile)) (one fleet CA), or set cscTrust to the ConfigMap or Secret you copy the CSC\'s CA into (LeafTrust.fromExistingConfigMap(...))',
      });
    }
    if (endpoint!.startsWith('tls://') && this.cscForeignIssuer && cscTrust === undefined) {
      throw problem({
        where,
        field: `${member}.cscTrust`,
        problem: `the CSC's gateway certificate comes from ${this.cscForeignIssuer}, an issuer the library did not make, so the CA that signs it is unknown here; `
          + `CPC ${quote(cpc.id)} states no cscTrust, and its leaf to ${quote(endpoint)} would verify the CSC against the public roots by assumption`,
        allowed: 'a stated trust: the public roots (a publicly trusted issuer, e.g. ACME), or the CA bundle that signs the CSC certificate',
        fix: 'set cscTrust on this CPC or on the whole fleet: cscTrust: LeafTrust.publicRoots(), or the CA bundle: cscTrust: LeafTrust.fromPemFile("issuer-ca.crt") '
          + '(or LeafTrust.fromExistingSecret(...) / LeafTrust.fromExistingConfigMap(...) for a CA bundle already in each CPC)',
      });
    }
    const chart = forwardedProps(`${where}/${cpcDir}`, where, field, () => new CpcChart(this, cpcDir, { ...merge(props, cpc), cluster, cscEndpoint: endpoint!, cscTrust }));
    this.cpcs.push(chart);
    this.memberOptions.set(chart, cpc);
    this.leafConnections.push(new LeafConnection(this, `leaf-${cluster.cpcId}`, {
      csc: this.csc.secrets,
      cpc: chart.secrets,
      cscEndpoint: endpoint,
    }));
    return chart;
  }

  /**
   * What the fleet's key store must hold: every CPC (those of
   * {@link addCpc} included) and the extra accounts. Synthesis only reads
   * keys; to create missing ones, pass this to
   * `DirectoryKeyStore.generateMissing` before `app.synth()`.
   */
  public get keyStoreRequest(): KeyStoreRequest {
    return { cpcIds: this.cpcs.map((c) => c.cpcId), extraAccounts: [...this.props.extraAccounts ?? []] };
  }

  /** Every chart: the CSC first, then the CPCs in order. */
  public get charts(): EventBusClusterChart[] {
    return [this.csc, ...this.cpcs];
  }

  /**
   * Validates every construct of the fleet and writes each cluster's
   * manifests and Helm values under `outdir`, the same files as
   * {@link EventBusApp.synth}, always the guarded way (all or nothing, under
   * a lock, removing only files an earlier synth wrote), also under
   * `cdk8s synth`.
   */
  public synth(outdir: string): FleetSynthResult {
    return synthesizeOutput(this, outdir);
  }

  /** The CPC chart with the given id. */
  public cpc(cpcId: string): CpcChart {
    const chart = this.cpcs.find((c) => c.cpcId === cpcId);
    if (!chart) {
      throw problem({ where: this.node.path, problem: `no CPC with id ${quote(cpcId)}`, allowed: this.cpcs.map((c) => quote(c.cpcId)).join(', ') || 'none' });
    }
    return chart;
  }

  /**
   * A CPC that reaches the CSC through the CSC's own gateway must speak that
   * listener's protocol, and a TLS endpoint's host must be in the CSC
   * certificate: otherwise the leaf connection fails at runtime, silently.
   */
  private checkEndpointAgainstCsc(
    { scheme, host, hostText, port }: Endpoint, endpoint: string, field: string, leafnode: LeafnodeEndpoint | undefined,
  ): void {
    if (!leafnode) return; // no CSC gateway: the endpoint is someone else's
    const viaGateway = leafnode.hosts.some((h) => (isIpLiteral(h)
      ? isIpLiteral(host) && canonicalIp(h) === canonicalIp(host)
      : h === host.toLowerCase()));
    if (!viaGateway) return;
    const where = this.where;
    if (leafnode.scheme === 'tls' && scheme !== 'tls') {
      throw problem({
        where,
        field,
        problem: `cscEndpoint ${quote(endpoint)} uses ${scheme}:// but the CSC gateway terminates TLS on its nats-leafnode listener`,
        fix: `use ${formatUrl('tls', hostText, port ?? leafnode.port)}`,
      });
    }
    if (leafnode.scheme !== 'tls' && scheme === 'tls') {
      throw problem({
        where,
        field,
        problem: `cscEndpoint ${quote(endpoint)} uses tls:// but the CSC gateway's nats-leafnode listener is plain TCP`,
        fix: `use ${formatUrl(leafnode.scheme, hostText, port ?? leafnode.port)}`,
      });
    }
  }
}

/** The fleet's options with one member's overrides applied. */
function merge(fleet: EventBusFleetProps, member: FleetClusterOptions | undefined): EventBusClusterOptions {
  const { csc: _csc, cpcs: _cpcs, cscEndpoint: _e, cscTrust: _t, gitops: _g, ...common } = fleet;
  return {
    ...common,
    metadata: mergeMetadata(fleet.metadata, member?.metadata),
    gateway: { ...(fleet.gateway ?? {}), ...(member?.gateway ?? {}) },
    nkeyPermissions: [...(fleet.nkeyPermissions ?? []), ...(member?.nkeyPermissions ?? [])],
    mtlsServerTls: member?.mtlsServerTls ?? fleet.mtlsServerTls,
    secretOverrides: mergeOverrides(fleet.secretOverrides, member?.secretOverrides),
    mqttStreams: member?.mqttStreams ?? fleet.mqttStreams,
    authCallout: member?.authCallout ?? fleet.authCallout,
    certificates: member?.intermediateCa && fleet.certificates ? fleet.certificates._withCa(member.intermediateCa) : fleet.certificates,
  };
}

/** A member's metadata over the fleet's: its namespace replaces the fleet's, its labels are added. */
function mergeMetadata(fleet: ClusterChartMetadata | undefined, member: ClusterChartMetadata | undefined): ClusterChartMetadata | undefined {
  if (member === undefined) return fleet;
  // Anything else a member's metadata holds reaches the chart, which refuses it by name.
  return { ...fleet, ...member, namespace: member.namespace ?? fleet?.namespace, labels: { ...fleet?.labels, ...member.labels } };
}

/**
 * The names each cluster's intermediate CA must permit (library-internal):
 * its gateway host names and IPs, its mTLS host names, and the `nats-mtls`
 * Service names of its namespace. `dsx-event-bus synth` issues the
 * intermediates from these; the cluster chart checks every Certificate it
 * issues against the intermediate it is given. `clusters` is the CSC of
 * these props with its CPCs in order, their ids checked where they entered
 * (`EventBusCluster.csc`, or the fleet file): the names are keyed by their
 * folders and no id is checked again here.
 */
export function fleetIntermediateNames(props: EventBusFleetProps, clusters: EventBusCluster): IntermediateNames[] {
  const namesOf = (cluster: EventBusCluster, member: FleetClusterOptions | undefined): IntermediateNames => {
    const o = merge(props, member);
    const gw = o.gateway ?? {};
    const ns = chartNamespace(o.metadata);
    const hosts = [...(gw.hostnames ?? []), ...(gw.ipAddresses ?? []), ...(gw.mtlsHostnames ?? [])];
    return {
      cluster: cluster.directory,
      // Each name exactly: a DNS constraint permits the name and its subdomains, never a longer suffix (nats-mtls.<ns>.svc).
      dnsNames: [...hosts.filter((h) => !isIpLiteral(h)), 'nats-mtls', `nats-mtls.${ns}`, `nats-mtls.${ns}.svc`, `nats-mtls.${ns}.svc.cluster.local`],
      ipAddresses: hosts.filter((h) => isIpLiteral(h)),
    };
  };
  // A caller's mistake, not the user's: the names would be filed under another cluster.
  if (clusters.role !== ClusterRole.CSC || JSON.stringify(clusters.cpcIds) !== JSON.stringify((props.cpcs ?? []).map((c) => c.id))) {
    throw new Error('fleetIntermediateNames: clusters is not the CSC of these props, with their CPCs in order');
  }
  return [namesOf(clusters, props.csc), ...clusters.cpcs.map((c, i) => namesOf(c, props.cpcs[i]))];
}

/**
 * The CSC certificate's issuer, when the library did not make it: `certificates.issuer` (named) or `certificates.vault`.
 * Only when the CSC chart issues its gateway certificate (a TLS gateway without `serverTlsSecret`).
 */
function foreignIssuer(csc: EventBusClusterOptions, chart: CscChart): string | undefined {
  if (!chart.serverCertificate) return undefined;
  const issuer = csc.certificates?.existingIssuer;
  if (issuer) return `certificates.issuer (${issuer.issuerKind} ${quote(issuer.issuerName)})`;
  if (csc.certificates?.vaultIssuerProps) return 'certificates.vault (a Vault/OpenBao PKI)';
  return undefined;
}

/**
 * The fleet CA's certificate, when the CSC gateway's certificate is issued
 * by the fleet's CA issuer: only the certificate reaches the CPCs, never the key.
 */
function defaultCscTrust(props: EventBusFleetProps, gw: ClusterGatewayOptions): LeafTrust | undefined {
  const pem = props.certificates?.ca?.rootCertificatePem;
  if (!pem || gw.serverTlsSecret) return undefined;
  return LeafTrust.fromPem(pem);
}

/**
 * Each member's intermediate is an intermediate of the fleet's root, and a
 * root whose key would be delivered inline has one per cluster: the root's
 * key never enters a cluster.
 */
function checkIntermediates(props: EventBusFleetProps, fleetWhere: string): void {
  const root = props.certificates?.ca;
  const members: Array<[string, FleetClusterOptions | undefined]> = [
    ['csc.intermediateCa', props.csc],
    ...(props.cpcs ?? []).map((c, i): [string, FleetClusterOptions] => [`cpcs[${i}].intermediateCa`, c]),
  ];
  for (const [field, member] of members) {
    const ica = member?.intermediateCa;
    if (ica === undefined) continue;
    const where = `${fleetWhere}: ${field}`;
    if (!(ica instanceof CertificateAuthority) || ica.kind !== CertificateAuthorityKind.INTERMEDIATE) {
      throw problem({ where, problem: `intermediateCa is ${ica instanceof CertificateAuthority ? `a CertificateAuthority of kind ${quote(ica.kind)}` : 'not a CertificateAuthority'}`, allowed: 'CertificateAuthority.intermediateFromPem(certificatePem, privateKeyPem, rootCertificatePem)', fix: 'pass this cluster\'s intermediate, signed by certificates.ca' });
    }
    if (!root) {
      throw problem({ where, problem: 'intermediateCa is set, but the fleet has no certificates.ca (the root it belongs to)', fix: 'set certificates.ca to the root that signed the intermediates, or remove intermediateCa' });
    }
    if (root.certificatePem === undefined || root.certificatePem.trim() !== ica.rootCertificatePem!.trim()) {
      throw problem({ where, problem: 'intermediateCa was signed by another root than certificates.ca', fix: 'issue the intermediate from certificates.ca (dsx-event-bus synth reissues it), or pass the matching root' });
    }
  }
  if (root?.hasPrivateKey && root.isSelfSigned && props.delivery?.kind === SecretsDeliveryKind.INLINE) {
    const missing = members.find(([, m]) => m?.intermediateCa === undefined);
    if (missing) {
      throw problem({
        where: `${fleetWhere}: ${missing[0]}`,
        problem: 'certificates.ca is the fleet\'s self-signed root with its private key, and inline delivery would put that key into this cluster (whoever holds one cluster could then issue certificates every other cluster trusts)',
        allowed: 'one name-constrained intermediate per cluster, signed by the root (CertificateAuthority.intermediateFromPem); the root keeps its key',
        fix: 'set intermediateCa on the CSC and on every CPC, and pass the root without its key (CertificateAuthority.fromPem(certificatePem))',
      });
    }
  }
}

/** The fleet's overrides, with each one the member also gives replaced by the member's. */
function mergeOverrides(fleet: SecretOverride[] | undefined, member: SecretOverride[] | undefined): SecretOverride[] | undefined {
  if (!member?.length) return fleet;
  const own = new Set(member.map((o) => o?.secret));
  return [...(fleet ?? []).filter((o) => !own.has(o?.secret)), ...member];
}

/** A fleet-level Secret override that names a Secret only some clusters have. */
interface MisplacedOverride {
  /** Index in the fleet's `secretOverrides`. */
  readonly index: number;
  /** The upstream Secret name it overrides. */
  readonly secret: string;
  /** The clusters that have that Secret. */
  readonly clusters: EventBusCluster[];
}

/**
 * A fleet-level override applies to every cluster, so it may only name a
 * Secret every cluster has; a Secret of some clusters (a CPC's
 * `nats-leaf-csc`, the CSC's `nats-leaf-cpc-<id>`) belongs to their entries.
 * Names no cluster has are left to EventBusSecrets, which lists the allowed ones.
 */
function misplacedFleetOverrides(overrides: SecretOverride[], mtls: boolean, csc: EventBusCluster, accountTokens: string[]): MisplacedOverride[] {
  const namesOf = (role: 'csc' | 'cpc', ids: string[]) => new Set([...clusterSecretDefs(mtls), ...leafSecretDefs(role, ids, accountTokens)].map((d) => d.name));
  const clusters: Array<[EventBusCluster, Set<string>]> = [[csc, namesOf('csc', csc.cpcIds)], ...csc.cpcs.map((c): [EventBusCluster, Set<string>] => [c, namesOf('cpc', [c.cpcId!])])];
  const out: MisplacedOverride[] = [];
  overrides.forEach((o, index) => {
    const having = clusters.filter(([, secrets]) => secrets.has(o?.secret)).map(([c]) => c);
    if (having.length > 0 && having.length < clusters.length) out.push({ index, secret: o.secret, clusters: having });
  });
  return out;
}

function checkFleetOverrides(props: EventBusFleetProps, csc: EventBusCluster, accountTokens: string[], where: string): void {
  const [m] = misplacedFleetOverrides(props.secretOverrides ?? [], chartMtls(props), csc, accountTokens);
  if (!m) return;
  const field = (c: EventBusCluster) => (c.role === ClusterRole.CSC ? 'csc.secretOverrides' : `cpcs[${csc.cpcIds.indexOf(c.cpcId!)}].secretOverrides`);
  throw problem({
    where,
    field: `secretOverrides[${m.index}]`,
    problem: `Secret ${quote(m.secret)} exists only on ${m.clusters.map((c) => c.directory).join(', ')}, but a fleet-level override applies to every cluster`,
    fix: `move this override to ${m.clusters.map(field).join(' and ')}`,
  });
}

/** Props a member's chart gets from the fleet merged per key rather than replaced. */
const MERGED_PER_KEY = new Set(['gateway', 'metadata']);

/**
 * The fleet's prop path of a prop of a member's chart: the member's
 * (`cpcs[0].gateway.hostnames`) when the member sets it, else the fleet's
 * (`gateway.hostnames`), which every member inherits. `own` names chart props
 * that are the member's only (a CPC chart's `cpcId` is `cpcs[0].id`). A list
 * both give (`nkeyPermissions`, `secretOverrides`) is named at the member when
 * the member gives one.
 */
function memberField(
  fleet: EventBusFleetProps, options: FleetClusterOptions | undefined, member: string, own: { [chartProp: string]: string } = {},
): (field: string) => string {
  return (field) => {
    const [head, key] = field.split(/[.[]/);
    if (Object.prototype.hasOwnProperty.call(own, head)) return `${member}.${own[head]}${field.slice(head.length)}`;
    const value = (options as Record<string, any> | undefined)?.[head];
    const setByMember = value !== undefined && (!MERGED_PER_KEY.has(head) || key === undefined || value[key] !== undefined);
    if (setByMember) return `${member}.${field}`;
    // A member-only prop the member left unset (a CPC's cscEndpoint) defaults to the fleet's.
    return (fleet as Record<string, any>)[head] !== undefined || !(['cscEndpoint', 'cscTrust'].includes(head)) ? field : `${member}.${field}`;
  };
}
