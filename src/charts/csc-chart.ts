import { Construct } from 'constructs';
import { EventBusClusterChart } from './cluster-chart';
import { EventBusClusterOptions } from './options';
import { EventBusCluster } from '../secrets/cluster';

/** Props of {@link CscChart}. */
export interface CscChartProps extends EventBusClusterOptions {
  /** Ids of the CPCs that connect to this CSC (`global.eventBus.cpcIds`). */
  readonly cpcIds: string[];
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
    super(scope, id, EventBusCluster.csc({ cpcIds: props.cpcIds }), props, props.createLeafConnections ?? false);
  }

  /** The ids of the CPCs this CSC accepts. */
  public get cpcIds(): string[] {
    return this.cluster.cpcIds;
  }

  /**
   * Adds a CPC to this CSC: its id joins `cpcIds` (and the Helm values), and
   * its leaf Secrets are expected (joined by a `LeafConnection`, or created
   * here with `createLeafConnections`). `EventBusFleet.addCpc` calls this.
   * @param cpcId the new CPC's id
   */
  public addCpcId(cpcId: string): void {
    this.secrets.addCpcId(cpcId);
  }

  protected roleValues(): Record<string, unknown> {
    return { cpcIds: this.cluster.cpcIds };
  }
}
