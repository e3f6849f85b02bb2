import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { EventBusClusterChart, roleChecked } from './cluster-chart';
import { EventBusClusterOptions } from './options';
import { LeafTrust, LeafTrustKind } from '../certificates/leaf-trust';
import { parseLeafEndpoint } from '../endpoint';
import { problem, quote } from '../errors';
import { standardLabels } from '../labels';
import { ClusterRole, EventBusCluster } from '../secrets/cluster';

/** Props of {@link CpcChart}. */
export interface CpcChartProps extends EventBusClusterOptions {
  /**
   * The CPC (`global.eventBus.clusterId` is its id): `EventBusCluster.cpc(id)`,
   * where the id is checked.
   */
  readonly cluster: EventBusCluster;
  /**
   * Where the CPC's leafnode remote connects to the CSC
   * (`global.eventBus.cscEndpoint`), e.g. `tls://csc.example.com:<leafnode port>`
   * (the CSC gateway's `leafnodeEndpoint.url`).
   */
  readonly cscEndpoint: string;
  /**
   * Create this CPC's side of its leaf pairs without a CSC chart in the same
   * app. In a fleet, the fleet's `LeafConnection`s do it.
   * @default false
   */
  readonly createLeafConnections?: boolean;
  /**
   * The CA this CPC trusts for the CSC gateway's certificate, for a `tls://`
   * `cscEndpoint` (the CSC's TLS-terminating `nats-leafnode` listener). The
   * leaf remote then starts with the TLS handshake (`handshake_first`), and
   * the CA is mounted into the NATS pods and named in its `ca_file`.
   * Not allowed with a `nats://` endpoint.
   * @default - LeafTrust.publicRoots() for a `tls://` endpoint (the CSC
   * certificate must then be publicly trusted)
   */
  readonly cscTrust?: LeafTrust;
}

/**
 * One control plane cluster: its Secrets (including the seed of its leaf
 * user), certificates, gateway and Helm values.
 */
export class CpcChart extends EventBusClusterChart {
  /** The leafnode URL of the CSC. */
  public readonly cscEndpoint: string;
  /** The CA trusted for the CSC gateway's certificate; undefined for a plain `nats://` endpoint. */
  public readonly cscTrust?: LeafTrust;

  constructor(scope: Construct, id: string, props: CpcChartProps) {
    const where = `${scope.node.path ? scope.node.path + '/' : ''}${id}`;
    const cluster = roleChecked(scope, id, props?.cluster, ClusterRole.CPC);
    const { scheme } = parseLeafEndpoint(props.cscEndpoint, where);
    if (props.cscTrust !== undefined && !(props.cscTrust instanceof LeafTrust)) {
      throw problem({ where, problem: 'cscTrust is not a LeafTrust', fix: 'use LeafTrust.fromPem(…), .fromPemFile(…), .fromExistingSecret(…), .fromExistingConfigMap(…) or .publicRoots()' });
    }
    if (props.cscTrust && scheme !== 'tls') {
      throw problem({
        where,
        field: 'cscTrust',
        problem: `cscTrust is set, but cscEndpoint ${quote(props.cscEndpoint)} uses ${scheme}://, so the leaf connection has no TLS handshake to trust a CA for`,
        allowed: 'cscTrust with a tls:// cscEndpoint (the CSC gateway\'s TLS-terminating nats-leafnode listener)',
        fix: 'remove cscTrust for a plain TCP gateway (transport tcp), or use a tls:// cscEndpoint',
      });
    }
    super(scope, id, cluster, props, props.createLeafConnections ?? false);
    this.cscEndpoint = props.cscEndpoint;
    if (scheme === 'tls') {
      this.cscTrust = props.cscTrust ?? LeafTrust.publicRoots();
      if (this.cscTrust.kind === LeafTrustKind.PEM) {
        // CA certificates are public: a ConfigMap, whatever the Secrets' delivery.
        new ApiObject(this, 'CscTrust', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: this.cscTrust.configMapName, namespace: this.releaseNamespace, labels: standardLabels('trust') },
          data: { [this.cscTrust.key!]: this.cscTrust.pem! },
        });
      }
    }
  }

  /** The CPC's id. */
  public get cpcId(): string {
    return this.cluster.cpcId!;
  }

  protected roleValues(): Record<string, unknown> {
    const tls = this.cscTrust?._values().cpcLeafClientTLS;
    return { clusterId: this.cluster.cpcId, cscEndpoint: this.cscEndpoint, ...(tls ? { cpcLeafClientTLS: tls } : {}) };
  }

  protected subchartValues(): Record<string, unknown> {
    const tlsCA = this.cscTrust?._values().tlsCA;
    // The nats subchart mounts tlsCA into the NATS container; its ca_file is
    // only added to TLS blocks the subchart renders, and the chart's main
    // instance has none, so here it only mounts the file cpcLeafClientTLS names.
    return tlsCA ? { nats: { tlsCA } } : {};
  }
}
