/**
 * The public vocabulary of key rotations and revocations (the state itself
 * lives in the key store, see engine/rotation-state.ts).
 */
import { problem, quote } from '../errors';
import * as catalogue from './catalogue';
import { CSC, cpcCluster, cpcIdOfCluster, validateCpcId } from './layout';

/**
 * Where a rotation stands. `done` is not a stage a rotation stays in: the
 * step to it archives the old pair and ends the rotation.
 */
export enum RotationStage {
  /**
   * The new pair is stored beside the current one; the accepting side
   * accepts both, the presenting side still presents the current key.
   */
  OVERLAP = 'overlap',
  /**
   * The key-store layout holds the new pair: the presenting side presents
   * the new key; the accepting side still accepts the old one too.
   */
  SWITCHED = 'switched',
}

// jsii enum values must be literals: each value restates a catalogue name
// (keys/catalogue.ts), and test/keys/catalogue.test.ts holds them to it.
/** A cluster's own user keys whose both sides live in that cluster. */
export enum RotatableClusterKey {
  /** `nats-nack-user` (NACK presents it; the auth-callout entry `nack-controller` accepts it). */
  NACK = 'nats-nack-user',
  /** `nats-surveyor` (Surveyor presents it; entry `surveyor`, account SYS). */
  SURVEYOR = 'nats-surveyor',
  /** `nats-mtls-leaf` (nats-mtls presents it to the main NATS; entry `mtls-leaf`). */
  MTLS_LEAF = 'nats-mtls-leaf',
  /** `nats-mtls-authx-leaf` (entry `mtls-authx-leaf`, account AUTHX). */
  MTLS_AUTHX_LEAF = 'nats-mtls-authx-leaf',
  /** `nats-mtls-sys-leaf` (entry `mtls-sys-leaf`, account SYS). */
  MTLS_SYS_LEAF = 'nats-mtls-sys-leaf',
  /**
   * `nats-authx-user`, the user the auth-callout service connects with
   * (`auth-callout-keys` `nkey-seed` presents it). NATS itself accepts it,
   * not the auth-callout: the AUTHX account's `users` and the `auth_callout`
   * block's `auth_users` list it, and both lists take two keys while it
   * rotates.
   */
  AUTH_CALLOUT_USER = 'nats-authx-user',
  /**
   * The auth-callout issuer (`nats-auth-signing`, the AUTH account's
   * signing key) and the xkey (`nats-xkey`), replaced together with their
   * `auth-callout-keys` copies. The NATS config takes one `issuer` and one
   * `xkey`, so they cannot overlap: `overlap` stores the new pairs and
   * changes no output; `switched` is the one deploy that interrupts logins
   * (NATS and the auth-callout restart together); `done` archives the old
   * pairs and changes no output.
   */
  AUTH_CALLOUT_ISSUER = 'auth-callout-issuer',
}

/** The chart's auth-callout permission entry that accepts each rotatable cluster key. */
export const CLUSTER_KEY_ENTRY: Readonly<Record<RotatableClusterKey, string>> = {
  [RotatableClusterKey.NACK]: 'nack-controller',
  [RotatableClusterKey.SURVEYOR]: 'surveyor',
  [RotatableClusterKey.MTLS_LEAF]: 'mtls-leaf',
  [RotatableClusterKey.MTLS_AUTHX_LEAF]: 'mtls-authx-leaf',
  [RotatableClusterKey.MTLS_SYS_LEAF]: 'mtls-sys-leaf',
  // Not an auth-callout entry: the charts render this one into the NATS config (AUTHX users, auth_users).
  [RotatableClusterKey.AUTH_CALLOUT_USER]: 'authx-user',
  // Nothing accepts an extra issuer or xkey: no output changes for it.
  [RotatableClusterKey.AUTH_CALLOUT_ISSUER]: 'auth-callout-issuer',
};

/** The base-set secrets each rotatable cluster key replaces (the secret of the same name for all but the issuer). */
export const CLUSTER_KEY_SECRETS: Readonly<Record<RotatableClusterKey, readonly string[]>> = {
  [RotatableClusterKey.NACK]: [catalogue.NACK_USER],
  [RotatableClusterKey.SURVEYOR]: [catalogue.SURVEYOR],
  [RotatableClusterKey.MTLS_LEAF]: [catalogue.MTLS_LEAF],
  [RotatableClusterKey.MTLS_AUTHX_LEAF]: [catalogue.MTLS_AUTHX_LEAF],
  [RotatableClusterKey.MTLS_SYS_LEAF]: [catalogue.MTLS_SYS_LEAF],
  [RotatableClusterKey.AUTH_CALLOUT_USER]: [catalogue.AUTHX_USER],
  [RotatableClusterKey.AUTH_CALLOUT_ISSUER]: [catalogue.AUTH_SIGNING, catalogue.XKEY],
};

/** What a rotation rotates. */
export class RotationTarget {
  /**
   * The leaf keys a CPC presents to the CSC: the pair of the CSC account
   * and of every extra account, rotated together.
   */
  public static leaf(cpcId: string): RotationTarget {
    validateCpcId(cpcId, 'RotationTarget.leaf');
    return new RotationTarget(cpcCluster(cpcId), cpcId, undefined, undefined);
  }

  /**
   * One of a cluster's own user keys (NACK, Surveyor, the mTLS leaf users,
   * the auth-callout user).
   * @param cluster `csc` or `cpc-<id>`
   */
  public static clusterKey(cluster: string, key: RotatableClusterKey): RotationTarget {
    const cpcId = cpcIdOfCluster(cluster);
    if (cluster !== CSC) {
      if (cpcId === undefined) {
        throw problem({ where: 'RotationTarget.clusterKey', problem: `cluster ${quote(cluster)} is unknown`, allowed: '"csc" or "cpc-<id>"', fix: 'name the cluster as its key-store folder is named' });
      }
      validateCpcId(cpcId, 'RotationTarget.clusterKey');
    }
    if (!Object.values(RotatableClusterKey).includes(key)) {
      throw problem({
        where: 'RotationTarget.clusterKey',
        problem: `key ${quote(key)} cannot be rotated in stages`,
        allowed: Object.values(RotatableClusterKey).join(', '),
        fix: 'the issuer (nats-auth-signing) and the xkey (nats-xkey) are replaced together, with an interruption, as <cluster>/auth-callout-issuer (see docs/operations.md)',
      });
    }
    return new RotationTarget(`${cluster}/${key}`, undefined, cluster, key);
  }

  /**
   * Parses the CLI form: `cpc-<id>` (leaf keys of that CPC) or
   * `<cluster>/<secret>` (e.g. `csc/nats-nack-user`).
   */
  public static parse(text: string): RotationTarget {
    const slash = text.indexOf('/');
    if (slash >= 0) return RotationTarget.clusterKey(text.slice(0, slash), text.slice(slash + 1) as RotatableClusterKey);
    const cpcId = cpcIdOfCluster(text);
    if (!cpcId) {
      throw problem({
        where: 'rotation target',
        problem: `${quote(text)} names no rotatable keys`,
        allowed: `cpc-<id> (the leaf keys of that CPC) or <cluster>/<secret> with <secret> one of ${Object.values(RotatableClusterKey).join(', ')}`,
        fix: 'e.g. cpc-1 or csc/nats-nack-user',
      });
    }
    return RotationTarget.leaf(cpcId);
  }

  /** `cpc-<id>` for leaf keys, `<cluster>/<secret>` for a cluster key. */
  public readonly name: string;
  /** The CPC whose leaf keys rotate (leaf rotations only). */
  public readonly cpcId?: string;
  /** The cluster whose own key rotates (cluster-key rotations only). */
  public readonly cluster?: string;
  /** The rotated key (cluster-key rotations only). */
  public readonly key?: RotatableClusterKey;

  private constructor(name: string, cpcId: string | undefined, cluster: string | undefined, key: RotatableClusterKey | undefined) {
    this.name = name;
    this.cpcId = cpcId;
    this.cluster = cluster;
    this.key = key;
  }

  /** The cluster that presents the key (its output changes when it switches). */
  public get presentingCluster(): string {
    return this.cpcId !== undefined ? cpcCluster(this.cpcId) : this.cluster!;
  }

  /** The cluster whose auth-callout accepts the key. */
  public get acceptingCluster(): string {
    return this.cpcId !== undefined ? CSC : this.cluster!;
  }
}

/** One rotation in progress, as `rotate --status` prints it. */
export interface RotationStatus {
  /** The target's name (`cpc-1`, `csc/nats-nack-user`). */
  readonly target: string;
  readonly stage: RotationStage;
  /** When the rotation started (ISO 8601). */
  readonly started: string;
  /** When it entered its stage (ISO 8601). */
  readonly stageSince: string;
  /** The public keys being replaced. */
  readonly oldPublicKeys: string[];
  /** The public keys replacing them. */
  readonly newPublicKeys: string[];
  /** The clusters whose output the step into this stage changed, in the order to deploy them. */
  readonly deployOrder: string[];
  /** What must be true before the next step (what the operator confirms with `--advance`). */
  readonly confirmBeforeNextStep: string;
  /** The clusters whose output the next step changes, in the order to deploy them. */
  readonly nextStepChanges: string[];
}

/** A public key the accepting cluster accepts in addition to the layout's, while a rotation is in progress. */
export interface AcceptedRotationKey {
  /** The auth-callout permission entry to add (`rotation-<entry>`). */
  readonly permissionName: string;
  /** The chart-generated entry it stands beside (same account): `leaf-cpc-1`, `nack-controller`, … */
  readonly generatedEntry: string;
  /** The extra account's secret token for an extra-account leaf entry. */
  readonly accountToken?: string;
  /** The public key (`U…`). */
  readonly publicKey: string;
}

/** A revoked CPC. */
export interface RevokedCpc {
  readonly cpcId: string;
  /** When it was revoked (ISO 8601). */
  readonly revoked: string;
  /** Where its keys were archived, relative to the key-store root. */
  readonly archive: string;
}
