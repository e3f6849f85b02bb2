import { Construct } from 'constructs';
import { EventBusClusterChart } from './cluster-chart';
import { EventBusClusterOptions } from './options';
import { problem, quote } from '../errors';
import { EventBusCluster } from '../secrets/cluster';

/** Props of {@link CpcChart}. */
export interface CpcChartProps extends EventBusClusterOptions {
  /** The CPC's id (`^[a-z0-9]+$`, `global.eventBus.clusterId`). */
  readonly cpcId: string;
  /**
   * Where the CPC's leafnode remote connects to the CSC
   * (`global.eventBus.cscEndpoint`), e.g. `tls://csc.example.com:7422`.
   */
  readonly cscEndpoint: string;
  /**
   * Create this CPC's side of its leaf pairs without a CSC chart in the same
   * app. In a fleet, the fleet's `LeafConnection`s do it.
   * @default false
   */
  readonly createLeafConnections?: boolean;
}

const LEAF_URL = /^(nats|tls|ws|wss):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:(\d{1,5}))?$/;

/** Throws unless `url` is a leafnode remote URL NATS accepts. */
export function validateCscEndpoint(url: string | undefined, where: string): void {
  const m = url === undefined ? null : LEAF_URL.exec(url);
  const port = m?.[4] === undefined ? undefined : Number(m[4]);
  if (!m || (port !== undefined && (port < 1 || port > 65535))) {
    throw problem({
      where,
      problem: url === undefined || url === '' ? 'cscEndpoint is missing: a CPC needs the URL of the CSC leafnode endpoint' : `cscEndpoint ${quote(url)} is not a leafnode URL`,
      allowed: 'scheme nats, tls, ws or wss, a host and an optional port, e.g. tls://csc.example.com:7422',
      fix: 'set cscEndpoint to the CSC gateway\'s nats-leafnode listener (port 7422)',
    });
  }
}

/**
 * One control plane cluster: its Secrets (including the seed of its leaf
 * user), certificates, gateway and Helm values.
 */
export class CpcChart extends EventBusClusterChart {
  /** The leafnode URL of the CSC. */
  public readonly cscEndpoint: string;

  constructor(scope: Construct, id: string, props: CpcChartProps) {
    validateCscEndpoint(props.cscEndpoint, `${scope.node.path ? scope.node.path + '/' : ''}${id}`);
    super(scope, id, EventBusCluster.cpc(props.cpcId), props, props.createLeafConnections ?? false);
    this.cscEndpoint = props.cscEndpoint;
  }

  /** The CPC's id. */
  public get cpcId(): string {
    return this.cluster.cpcId!;
  }

  protected roleValues(): Record<string, unknown> {
    return { clusterId: this.cluster.cpcId, cscEndpoint: this.cscEndpoint };
  }
}
