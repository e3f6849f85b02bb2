import { problem, quote } from '../errors';
import { CSC as CSC_DIRECTORY, cpcCluster, cpcIdOfCluster, validateCpcId, validateUniqueCpcIds } from '../keys/layout';

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
 * This is where a CPC id enters the constructs: the factories below check it
 * once, and from then on it travels as this value (charts, Secrets, leaf
 * connections and deliveries take an `EventBusCluster`, never re-check an
 * id string). test/cpc-id-entry-points.test.ts keeps it so.
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
    return EventBusCluster._cpc(cpcId, 'EventBusCluster.cpc');
  }

  /**
   * The CPC of the given id, checked here; errors name the caller's field
   * (`where`, e.g. `fleet: addCpc: id`).
   * @internal
   */
  public static _cpc(cpcId: string, where: string): EventBusCluster {
    validateCpcId(cpcId, where);
    return new EventBusCluster(ClusterRole.CPC, cpcId, []);
  }

  /**
   * The cluster whose key-store folder (and output folder) is `directory`
   * (`csc` or `cpc-<id>`), or undefined when it names no cluster; a CPC's id
   * is checked here. A CSC from its folder has no CPC ids.
   * @internal
   */
  public static _ofDirectory(directory: string, where: string): EventBusCluster | undefined {
    if (directory === CSC_DIRECTORY) return new EventBusCluster(ClusterRole.CSC, undefined, []);
    const id = cpcIdOfCluster(directory);
    if (id === undefined) return undefined;
    const cpc = EventBusCluster._cpc(id, where);
    return cpc.directory === directory ? cpc : undefined;
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

  /**
   * This CSC with one more CPC (already checked: it is a value), refused when
   * this is not the CSC or the CPC is one of its CPCs already.
   * @internal
   */
  public _withCpc(cpc: EventBusCluster, where: string): EventBusCluster {
    if (this.role !== ClusterRole.CSC) {
      throw problem({ where, problem: `${this.displayName} is not the CSC`, fix: 'add CPCs to the CSC' });
    }
    if (!(cpc instanceof EventBusCluster) || cpc.role !== ClusterRole.CPC) {
      throw problem({ where, problem: `${cpc instanceof EventBusCluster ? cpc.displayName : quote(cpc)} is not a CPC`, fix: 'pass EventBusCluster.cpc(id)' });
    }
    validateUniqueCpcIds([...this.ids, cpc.cpcId!], where);
    return new EventBusCluster(ClusterRole.CSC, undefined, [...this.ids, cpc.cpcId!]);
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
