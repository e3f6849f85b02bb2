import { Construct } from 'constructs';
import { EventBusClusterChart, roleChecked } from './cluster-chart';
import { EventBusClusterOptions } from './options';
import { ClusterRole, EventBusCluster } from '../secrets/cluster';

/** Props of {@link CscChart}. */
export interface CscChartProps extends EventBusClusterOptions {
  /**
   * The CSC and the CPCs that connect to it (`global.eventBus.cpcIds`):
   * `EventBusCluster.csc({ cpcIds })`, where the ids are checked.
   */
  readonly cluster: EventBusCluster;
  /**
   * Create the CSC side of every leaf pair without a CPC chart in the same
   * app (a pipeline that synthesizes the CSC alone). In a fleet, the fleet's
   * `LeafConnection`s join both sides instead.
   * @default false
   */
  readonly createLeafConnections?: boolean;
}

/**
 * The common services cluster: its Secrets (including the public key of
 * every CPC's leaf user), certificates, gateway and Helm values.
 */
export class CscChart extends EventBusClusterChart {
  constructor(scope: Construct, id: string, props: CscChartProps) {
    super(scope, id, roleChecked(scope, id, props?.cluster, ClusterRole.CSC), props, props.createLeafConnections ?? false);
  }

  /** The ids of the CPCs this CSC accepts. */
  public get cpcIds(): string[] {
    return this.cluster.cpcIds;
  }

  /**
   * Adds a CPC to this CSC: its id joins `cpcIds` (and the Helm values), and
   * its leaf Secrets are expected (joined by a `LeafConnection`, or created
   * here with `createLeafConnections`). `EventBusFleet.addCpc` calls this.
   * @param cpc the new CPC: `EventBusCluster.cpc(id)`
   */
  public addCpc(cpc: EventBusCluster): void {
    this._joinCpc(cpc, `${this.node.path}: addCpc`);
  }

  protected roleValues(): Record<string, unknown> {
    return { cpcIds: this.cluster.cpcIds };
  }
}
