import * as crypto from 'crypto';
import * as path from 'path';
import { ApiObject, Chart, DependencyGraph, Yaml } from 'cdk8s';
import { Construct } from 'constructs';
import { AuthCalloutOptions, MqttStreamsOptions } from './chart-values';
import { EventBusClusterChart } from './cluster-chart';
import { validateCscEndpoint, CpcChart } from './cpc-chart';
import { CscChart } from './csc-chart';
import { ClusterGatewayOptions, EventBusClusterOptions, NKeyPermission } from './options';
import { LeafTrust, LeafTrustKind } from '../certificates/leaf-trust';
import { canonicalIp, isIpLiteral } from '../certificates/names';
import { LeafConnection } from '../connections/leaf-connection';
import { EventBusError, problem, quote } from '../errors';
import { NAME_MAX, OutputCluster, OutputFile, OutputResult, writeOutputSync } from '../files/output-tree';
import { GatewayTransport } from '../gateway/gateway';
import { CSC, cpcCluster, validateCpcId, validateExtraAccounts, validateUniqueCpcIds } from '../keys/layout';
import { SecretOverride } from '../secrets/event-bus-secrets';
import { clusterSecretDefs, leafSecretDefs } from '../secrets/inventory';
import { MtlsServerTls } from '../secrets/mtls-server-tls';

/** Per-cluster settings of a fleet member, merged over the fleet's. */
export interface FleetClusterOptions {
  /**
   * Gateway settings of this cluster; each field given here replaces the
   * fleet's (`hostnames` are typically per cluster).
   * @default - the fleet's gateway settings
   */
  readonly gateway?: ClusterGatewayOptions;
  /**
   * Labels added to this cluster's objects (on top of the fleet's).
   * @default - the fleet's labels
   */
  readonly labels?: { [key: string]: string };
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
}

/** One CPC of a fleet. */
export interface FleetCpcOptions extends FleetClusterOptions {
  /** The CPC's id (`^[a-z0-9]+$`). */
  readonly id: string;
  /**
   * The CSC's leafnode URL for this CPC.
   * @default - the fleet's `cscEndpoint`, else derived from the CSC gateway:
   * `tls://<first hostname or IP>:7422` (`nats://` for a TCP gateway)
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
}

/** What {@link EventBusFleet.synth} wrote. */
export interface FleetSynthResult {
  /** Output directory of each cluster (`<outdir>/csc`, `<outdir>/cpc-1`, …). */
  readonly clusterDirectories: string[];
  /** Kubernetes objects written, per cluster (same order as the directories). */
  readonly objectsPerCluster: number[];
  /** Kubernetes objects written. */
  readonly objects: number;
  /** Files of the output (manifests and values). */
  readonly files: number;
  /** false when the output already held exactly these files (nothing was written). */
  readonly changed: boolean;
  /** One line per file or folder removed, and per folder kept because it holds files synth did not write. */
  readonly notices: string[];
}

/** File name of each cluster's Helm values. */
export const VALUES_FILE = 'values.event-bus.yaml';

/**
 * One CSC and N CPCs from one description: the CSC's `cpcIds` are the CPC
 * charts, every CPC is joined to the CSC by a `LeafConnection` (one key pair
 * per CPC, plus one per extra account), and extra accounts, mTLS and the
 * delivery strategy are the same everywhere.
 *
 * `synth(outdir)` writes one folder per cluster (`csc/`, `cpc-<id>/`), each
 * with `manifests/` (one file per object) and `values.event-bus.yaml` for
 * the upstream Helm chart: a layout an Argo CD ApplicationSet can iterate.
 */
export class EventBusFleet extends Construct {
  /** The CSC chart. */
  public readonly csc: CscChart;
  /** The CPC charts, in the given order. */
  public readonly cpcs: CpcChart[];
  /** One connection per CPC. */
  public readonly leafConnections: LeafConnection[];

  constructor(scope: Construct, id: string, props: EventBusFleetProps) {
    super(scope, id);
    const where = this.node.path || id;
    const ids = (props.cpcs ?? []).map((c) => c.id);
    for (const cpcId of ids) validateCpcId(cpcId, `${where}: cpcs`);
    validateUniqueCpcIds(ids, `${where}: cpcs`);
    // Here, not in the store: an error must name the fleet's option, not the key store.
    const accountTokens = validateExtraAccounts(props.extraAccounts ?? [], `${where}: extraAccounts`);
    checkFleetOverrides(props, ids, accountTokens, where);
    // One ensure for the whole fleet (generates everything at once when the
    // store may); the charts' own ensure calls then only verify.
    props.keys?.ensure({ cpcIds: ids, extraAccounts: props.extraAccounts });

    const cscOptions = merge(props, props.csc);
    this.csc = new CscChart(this, CSC, { ...cscOptions, cpcIds: ids });
    const cscGateway = { ...(props.gateway ?? {}), ...(props.csc?.gateway ?? {}) };
    const defaultTrust = defaultCscTrust(props, cscGateway);
    const cscSelfSigned = !cscGateway.serverTlsSecret && (cscOptions.certificates?.selfSigned ?? false);
    this.cpcs = [];
    this.leafConnections = [];
    for (const cpc of props.cpcs) {
      const endpoint = cpc.cscEndpoint ?? props.cscEndpoint ?? defaultCscEndpoint(cscGateway);
      validateCscEndpoint(endpoint, `${where}/${cpcCluster(cpc.id)}`);
      this.checkEndpointAgainstCsc(endpoint!, cpc.id, cscGateway);
      // A default trust only for a tls:// endpoint: with nats:// there is no TLS to trust.
      const cscTrust = cpc.cscTrust ?? props.cscTrust ?? (endpoint!.startsWith('tls://') ? defaultTrust : undefined);
      // A CA cert-manager makes inside the CSC is known to no one at synth
      // time: neither the public roots nor a PEM given here can be it, and the
      // leaf would fail at run time with "certificate signed by unknown authority".
      const trustCanMatch = cscTrust?.kind === LeafTrustKind.SECRET || cscTrust?.kind === LeafTrustKind.CONFIG_MAP;
      if (endpoint!.startsWith('tls://') && cscSelfSigned && !trustCanMatch) {
        throw problem({
          where: `${where}/${cpcCluster(cpc.id)}`,
          problem: `the CSC's gateway certificate comes from certificates.selfSigned, a CA that cert-manager makes inside the CSC cluster, so CPC ${quote(cpc.id)} cannot know it `
            + `(its trust is ${cscTrust ? `LeafTrust ${cscTrust.kind}` : 'the public roots'}) and its leaf to ${quote(endpoint)} would never verify`,
          allowed: 'one fleet CA (certificates.ca) that every CPC trusts by default, or an explicit cscTrust',
          fix: 'use certificates.ca instead of selfSigned (CertificateAuthority.fromPem...; in a fleet file `ca: {}`), or set cscTrust to the Secret or ConfigMap you copy the CSC\'s CA into (LeafTrust.fromExistingConfigMap(...))',
          cliFix: 'replace certificates.selfSigned with certificates.ca: {} (one fleet CA, made by synth --generate-missing or dsx-event-bus certs), or set cscTrust: { configMapName: ... } to a ConfigMap you copy the CSC\'s CA into',
        });
      }
      const chart = new CpcChart(this, cpcCluster(cpc.id), { ...merge(props, cpc), cpcId: cpc.id, cscEndpoint: endpoint!, cscTrust });
      this.cpcs.push(chart);
      this.leafConnections.push(new LeafConnection(this, `leaf-${cpc.id}`, {
        csc: this.csc.secrets,
        cpc: chart.secrets,
        cscEndpoint: endpoint,
      }));
    }
  }

  /** Every chart: the CSC first, then the CPCs in order. */
  public get charts(): EventBusClusterChart[] {
    return [this.csc, ...this.cpcs];
  }

  /**
   * Validates every construct (like `cdk8s synth`) and writes each cluster's
   * manifests and Helm values under `outdir`, all or nothing: the new output
   * is built in a staging folder and swapped in by renames, under a lock
   * (`outdir/.dsx-event-bus.lock`). `outdir/.dsx-event-bus-output.json`
   * records the files synth wrote; only those are ever removed (folders of
   * clusters no longer in the fleet included, so a GitOps repository never
   * keeps deploying a removed CPC); files of your own stay.
   */
  public synth(outdir: string): FleetSynthResult {
    const out = this._output(outdir);
    return out.result(writeOutputSync(outdir, out.clusters, { flag: 'outdir' }));
  }

  /**
   * Validates and renders the output files (nothing is written); the CLI
   * writes them with Ctrl-C handling.
   * @internal
   */
  public _output(outdir: string): { clusters: OutputCluster[]; result: (r: OutputResult) => FleetSynthResult } {
    const errors: string[] = [];
    for (const c of this.node.findAll()) {
      for (const e of c.node.validate()) errors.push(`[${c.node.path}] ${e}`);
    }
    if (errors.length) {
      throw new EventBusError(`synthesis failed with ${errors.length} error${errors.length === 1 ? '' : 's'}:\n  ${errors.join('\n  ')}`);
    }
    // chart.toJson() validates the whole app on every call (quadratic for a
    // fleet); validation ran once above, so render each chart's objects directly.
    const clusters = this.charts.map((chart): OutputCluster & { objects: number } => {
      const objects = renderChart(chart);
      const names = new Set<string>();
      const files: OutputFile[] = objects.map((obj) => {
        const name = manifestFileName(obj);
        if (names.has(name)) {
          throw problem({ where: chart.node.path, problem: `two objects would be written to ${name}`, fix: 'give the objects distinct names' });
        }
        names.add(name);
        // A Secret with inline data holds key material: readable by the owner only.
        return { path: `manifests/${name}`, content: Yaml.stringify(obj), secret: obj.kind === 'Secret' && Boolean(obj.data || obj.stringData) };
      });
      files.push({ path: VALUES_FILE, content: chart.valuesYaml(), secret: false });
      return { name: chart.cluster.directory, files, objects: objects.length };
    });
    return {
      clusters,
      result: (r) => ({
        clusterDirectories: clusters.map((c) => path.join(outdir, c.name)),
        objectsPerCluster: clusters.map((c) => c.objects),
        objects: clusters.reduce((n, c) => n + c.objects, 0),
        files: clusters.reduce((n, c) => n + c.files.length, 0),
        changed: r.changed,
        notices: r.notices,
      }),
    };
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
  private checkEndpointAgainstCsc(endpoint: string, cpcId: string, gw: ClusterGatewayOptions): void {
    const m = /^(\w+):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(endpoint)!;
    const scheme = m[1];
    const host = m[2].replace(/^\[|\]$/g, '');
    const names = gw.hostnames ?? [];
    const ips = (gw.ipAddresses ?? []).map(canonicalIp);
    const viaGateway = (gw.enabled ?? true) && (names.includes(host.toLowerCase()) || (isIpLiteral(host) && ips.includes(canonicalIp(host))));
    if (!viaGateway) return;
    const transport = gw.transport ?? GatewayTransport.TLS;
    const where = `${this.node.path}/${cpcCluster(cpcId)}`;
    if (transport === GatewayTransport.TLS && scheme !== 'tls') {
      throw problem({
        where,
        problem: `cscEndpoint ${quote(endpoint)} uses ${scheme}:// but the CSC gateway terminates TLS on its nats-leafnode listener`,
        fix: `use tls://${m[2]}:${m[3] ?? '7422'}`,
      });
    }
    if (transport === GatewayTransport.TCP && scheme === 'tls') {
      throw problem({
        where,
        problem: `cscEndpoint ${quote(endpoint)} uses tls:// but the CSC gateway's nats-leafnode listener is plain TCP`,
        fix: `use nats://${m[2]}:${m[3] ?? '7422'}`,
      });
    }
  }
}

/**
 * `<Kind>.<namespace>.<name>.k8s.yaml`, kept within the 255-byte file-name
 * limit: a longer one (a 253-character name in a long namespace) is cut and
 * ends in a hash of the whole, so it stays unique and stable.
 */
export function manifestFileName(obj: any): string {
  const base = `${obj.kind}.${obj.metadata?.namespace ? obj.metadata.namespace + '.' : ''}${obj.metadata?.name}`.replace(/[^0-9A-Za-z._-]/g, '');
  const suffix = '.k8s.yaml';
  if (base.length + suffix.length <= NAME_MAX) return base + suffix;
  const hash = crypto.createHash('sha256').update(base).digest('hex').slice(0, 12);
  return `${base.slice(0, NAME_MAX - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}

/** A chart's objects in dependency order, like `Chart.toJson()` without re-validating the app. */
function renderChart(chart: Chart): any[] {
  return new DependencyGraph(chart.node).topology()
    .filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === chart)
    .map((o) => o.toJson());
}

/** The fleet's options with one member's overrides applied. */
function merge(fleet: EventBusFleetProps, member: FleetClusterOptions | undefined): EventBusClusterOptions {
  const { csc: _csc, cpcs: _cpcs, cscEndpoint: _e, cscTrust: _t, ...common } = fleet;
  return {
    ...common,
    labels: { ...(fleet.labels ?? {}), ...(member?.labels ?? {}) },
    gateway: { ...(fleet.gateway ?? {}), ...(member?.gateway ?? {}) },
    nkeyPermissions: [...(fleet.nkeyPermissions ?? []), ...(member?.nkeyPermissions ?? [])],
    mtlsServerTls: member?.mtlsServerTls ?? fleet.mtlsServerTls,
    secretOverrides: mergeOverrides(fleet.secretOverrides, member?.secretOverrides),
    mqttStreams: member?.mqttStreams ?? fleet.mqttStreams,
    authCallout: member?.authCallout ?? fleet.authCallout,
  };
}

/**
 * The fleet CA's certificate, when the CSC gateway's certificate is issued
 * by the fleet's CA issuer: only the certificate reaches the CPCs, never the key.
 */
function defaultCscTrust(props: EventBusFleetProps, gw: ClusterGatewayOptions): LeafTrust | undefined {
  const pem = props.certificates?.ca?.certificatePem;
  if (!pem || gw.serverTlsSecret) return undefined;
  return LeafTrust.fromPem(pem);
}

function defaultCscEndpoint(gw: ClusterGatewayOptions): string | undefined {
  if (gw.enabled === false) return undefined;
  const host = gw.hostnames?.[0] ?? gw.ipAddresses?.[0];
  if (!host) return undefined;
  const scheme = (gw.transport ?? GatewayTransport.TLS) === GatewayTransport.TLS ? 'tls' : 'nats';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:7422`;
}

/** The fleet's overrides, with each one the member also gives replaced by the member's. */
function mergeOverrides(fleet: SecretOverride[] | undefined, member: SecretOverride[] | undefined): SecretOverride[] | undefined {
  if (!member?.length) return fleet;
  const own = new Set(member.map((o) => o?.secret));
  return [...(fleet ?? []).filter((o) => !own.has(o?.secret)), ...member];
}

/** A fleet-level Secret override that names a Secret only some clusters have. */
export interface MisplacedOverride {
  /** Index in the fleet's `secretOverrides`. */
  readonly index: number;
  /** The upstream Secret name it overrides. */
  readonly secret: string;
  /** Directories (`csc`, `cpc-<id>`) of the clusters that have that Secret. */
  readonly clusters: string[];
}

/**
 * A fleet-level override applies to every cluster, so it may only name a
 * Secret every cluster has; a Secret of some clusters (a CPC's
 * `nats-leaf-csc`, the CSC's `nats-leaf-cpc-<id>`) belongs to their entries.
 * Names no cluster has are left to EventBusSecrets, which lists the allowed ones.
 */
export function misplacedFleetOverrides(overrides: SecretOverride[], mtls: boolean, cpcIds: string[], accountTokens: string[]): MisplacedOverride[] {
  const namesOf = (role: 'csc' | 'cpc', ids: string[]) => new Set([...clusterSecretDefs(mtls), ...leafSecretDefs(role, ids, accountTokens)].map((d) => d.name));
  const clusters: Array<[string, Set<string>]> = [[CSC, namesOf('csc', cpcIds)], ...cpcIds.map((id): [string, Set<string>] => [cpcCluster(id), namesOf('cpc', [id])])];
  const out: MisplacedOverride[] = [];
  overrides.forEach((o, index) => {
    const having = clusters.filter(([, names]) => names.has(o?.secret)).map(([c]) => c);
    if (having.length > 0 && having.length < clusters.length) out.push({ index, secret: o.secret, clusters: having });
  });
  return out;
}

function checkFleetOverrides(props: EventBusFleetProps, ids: string[], accountTokens: string[], where: string): void {
  const [m] = misplacedFleetOverrides(props.secretOverrides ?? [], props.mtls ?? true, ids, accountTokens);
  if (!m) return;
  const field = (c: string) => (c === CSC ? 'csc.secretOverrides' : `cpcs[${ids.indexOf(c.slice('cpc-'.length))}].secretOverrides`);
  throw problem({
    where: `${where}: secretOverrides[${m.index}]`,
    problem: `Secret ${quote(m.secret)} exists only on ${m.clusters.join(', ')}, but a fleet-level override applies to every cluster`,
    fix: `move this override to ${m.clusters.map(field).join(' and ')}`,
  });
}
