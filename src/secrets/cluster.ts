import { problem, quote } from '../errors';
import { CSC as CSC_DIRECTORY, cpcCluster, validateCpcId, validateUniqueCpcIds } from '../keys/layout';

/** The two roles a cluster of the event bus can have (the chart's `clusterType`). */
export enum ClusterRole {
  /** The common services cluster: one per fleet; accepts the CPCs' leaf connections. */
  CSC = 'csc',
  /** A control plane cluster: connects to the CSC as a leafnode. */
  CPC = 'cpc',
}

/** Options of {@link EventBusCluster.csc}. */
export interface CscClusterOptions {
  /**
   * Ids of the CPCs that connect to this CSC (the chart's `cpcIds`). Each id
   * becomes part of Secret names (`nats-leaf-cpc-<id>`), so it must match
   * `^[a-z0-9]+$`; each is listed once.
   * @default - no CPCs yet
   */
  readonly cpcIds?: string[];
}

/**
 * Which cluster a set of Secrets is for: the CSC (with the ids of its CPCs) or
 * one CPC (with its id). Validated with the chart's naming rules when created.
 *
 * @example
 * EventBusCluster.csc({ cpcIds: ['1', '2'] });
 * EventBusCluster.cpc('1');
 */
export class EventBusCluster {
  /** The common services cluster, serving the given CPCs. */
  public static csc(options: CscClusterOptions = {}): EventBusCluster {
    return EventBusCluster._csc(options.cpcIds ?? [], () => 'EventBusCluster.csc: cpcIds', 'EventBusCluster.csc: cpcIds');
  }

  /**
   * The CSC of the given CPC ids, each checked once here; errors name the
   * caller's field of each id (`whereOf(index)`) and of the list.
   * @internal
   */
  public static _csc(cpcIds: readonly string[], whereOf: (index: number) => string, whereList: string): EventBusCluster {
    const ids = [...cpcIds];
    ids.forEach((id, i) => validateCpcId(id, whereOf(i)));
    validateUniqueCpcIds(ids, whereList);
    return new EventBusCluster(ClusterRole.CSC, undefined, ids);
  }

  /** The control plane cluster with the given id (`^[a-z0-9]+$`). */
  public static cpc(cpcId: string): EventBusCluster {
    if (typeof cpcId !== 'string') {
      throw problem({ where: 'EventBusCluster.cpc', problem: `CPC id ${quote(cpcId)} is not a string`, fix: 'pass the id as a string, e.g. "1"' });
    }
    validateCpcId(cpcId, 'EventBusCluster.cpc');
    return new EventBusCluster(ClusterRole.CPC, cpcId, []);
  }

  /** CSC or CPC. */
  public readonly role: ClusterRole;
  /** The id of a CPC; undefined for the CSC. */
  public readonly cpcId?: string;
  private readonly ids: readonly string[];

  private constructor(role: ClusterRole, cpcId: string | undefined, cpcIds: string[]) {
    this.role = role;
    this.cpcId = cpcId;
    this.ids = Object.freeze(cpcIds);
  }

  /**
   * For the CSC: its CPCs, in the given order (their ids were checked with
   * the CSC's). Empty for a CPC.
   */
  public get cpcs(): EventBusCluster[] {
    return this.ids.map((id) => new EventBusCluster(ClusterRole.CPC, id, []));
  }

  /** For the CSC: the ids of its CPCs, in the given order. Empty for a CPC. */
  public get cpcIds(): string[] {
    return [...this.ids];
  }

  /** The cluster's directory in the key store and in remote paths: `csc` or `cpc-<id>`. */
  public get directory(): string {
    return this.role === ClusterRole.CSC ? CSC_DIRECTORY : cpcCluster(this.cpcId!);
  }

  /** Name for messages: `CSC` or `CPC-<id>` (the upstream script's spelling). */
  public get displayName(): string {
    return this.role === ClusterRole.CSC ? 'CSC' : `CPC-${this.cpcId}`;
  }
}
