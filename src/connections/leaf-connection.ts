import { Construct } from 'constructs';
import { NATS_LEAFNODE_PORT } from '../endpoint';
import { problem, quote } from '../errors';
import { accountEnvToken, accountSecretToken, cpcLeafSecretName, cscLeafSecretName } from '../keys/layout';
import { ClusterRole, EventBusCluster } from '../secrets/cluster';
import { EventBusSecrets } from '../secrets/event-bus-secrets';
import { LeafPair, readLeafPair } from '../secrets/inventory';
import { KeyMaterial } from '../secrets/key-material';

/** Properties of {@link LeafConnection}. */
export interface LeafConnectionProps {
  /**
   * The CSC's Secrets: receive `nats-leaf-cpc-<id>` (pubkey) and one
   * `nats-leaf-<account>-cpc-<id>` per extra account.
   * @default - no CSC side (a CPC-only pipeline)
   */
  readonly csc?: EventBusSecrets;

  /**
   * The CPC's Secrets: receive `nats-leaf-csc` (seed) and one
   * `nats-leaf-<account>-csc` per extra account.
   * @default - no CPC side (a CSC-only pipeline)
   */
  readonly cpc?: EventBusSecrets;

  /**
   * The CPC id. Required without `cpc`; with `cpc` it must equal its id.
   * @default - the id of `cpc`
   */
  readonly cpcId?: string;

  /**
   * Where the CPC's leafnode remote connects to the CSC (the chart's
   * `cscEndpoint`, e.g. `tls://event-bus.example.com:<leafnode port>`). Required by the
   * CPC chart; kept here so it travels with the connection.
   * @default - not known yet
   */
  readonly cscEndpoint?: string;
}

/** One leaf key pair of a connection: the built-in one or one per extra account. */
export interface LeafPairDescription {
  /**
   * The extra account.
   * @default - none: the built-in pair
   */
  readonly account?: string;
  /**
   * Secret-name token of the account (`launchlayer`).
   * @default - none: the built-in pair
   */
  readonly secretToken?: string;
  /**
   * Env-var token of the account (`LAUNCHLAYER`).
   * @default - none: the built-in pair
   */
  readonly envToken?: string;
  /** Name of the CSC-side Secret (pubkey), after the CSC's overrides. */
  readonly cscSecretName: string;
  /** Name of the CPC-side Secret (seed), after the CPC's overrides. */
  readonly cpcSecretName: string;
  /**
   * The pair's public key (not secret).
   * @default - unknown: neither side has a key store
   */
  readonly publicKey?: string;
}

/**
 * Joins one CPC to the CSC: from each leaf key pair (the built-in one and one
 * per extra account) it emits the seed into the CPC's Secrets and the public
 * key into the CSC's Secrets, reading the pair once. A pair whose seed does
 * not derive the public key is refused (the error names both files).
 *
 * Give both sides when one app synthesizes the fleet; give one side (and
 * `cpcId`) when a pipeline synthesizes one cluster, or let
 * `EventBusSecrets` do that with `createLeafConnections: true`. Keys and
 * extra accounts come from the sides' `EventBusSecrets`, so the connection
 * cannot disagree with them; with both sides, their extra accounts must match.
 *
 * Nothing is read in the constructor: the pairs are read (once) and checked
 * at synthesis, before any manifest is rendered.
 */
export class LeafConnection extends Construct {
  /** The CPC id. */
  public readonly cpcId: string;
  /** The CSC endpoint, if given. */
  public readonly cscEndpoint?: string;
  /** The CSC side, if any. */
  public readonly csc?: EventBusSecrets;
  /** The CPC side, if any. */
  public readonly cpc?: EventBusSecrets;
  private readonly accounts: readonly string[];
  private pairCache?: LeafPair[];

  constructor(scope: Construct, id: string, props: LeafConnectionProps) {
    super(scope, id);
    const where = this.node.path;
    const { csc, cpc } = props ?? {};
    if (!csc && !cpc) {
      throw problem({ where, problem: 'neither csc nor cpc is set', fix: 'pass the EventBusSecrets of the CSC, of the CPC, or both' });
    }
    for (const [prop, side, role] of [['csc', csc, ClusterRole.CSC], ['cpc', cpc, ClusterRole.CPC]] as const) {
      if (side === undefined) continue;
      if (!(side instanceof EventBusSecrets)) throw problem({ where, problem: `${prop} is not an EventBusSecrets`, fix: `pass the EventBusSecrets of the ${prop.toUpperCase()}` });
      if (side.cluster.role !== role) {
        throw problem({ where, problem: `${prop} is the EventBusSecrets of ${side.cluster.displayName} (${side.node.path}), not of ${role === ClusterRole.CSC ? 'the CSC' : 'a CPC'}`, fix: `pass the ${role === ClusterRole.CSC ? 'CSC' : 'CPC'} EventBusSecrets as ${prop}` });
      }
    }
    // The CPC: the cpc side's (checked where it entered), or the cpcId prop, which enters here.
    if (cpc && props.cpcId !== undefined && props.cpcId !== cpc.cluster.cpcId) {
      throw problem({ where, problem: `cpcId ${quote(props.cpcId)} differs from the id of cpc (${quote(cpc.cluster.cpcId)})`, fix: 'omit cpcId; it is taken from cpc' });
    }
    if (!cpc && props.cpcId === undefined) throw problem({ where, problem: 'cpcId is missing', fix: 'pass cpcId when there is no cpc side' });
    const cpcCluster = cpc ? cpc.cluster : EventBusCluster._cpc(props.cpcId!, `${where}: cpcId`);
    const cpcId = cpcCluster.cpcId!;
    if (props.cscEndpoint !== undefined && (props.cscEndpoint.length === 0 || /\s/.test(props.cscEndpoint))) {
      throw problem({ where, problem: `cscEndpoint ${quote(props.cscEndpoint)} is empty or contains whitespace`, allowed: `a host:port or URL, e.g. "tls://event-bus.example.com:${NATS_LEAFNODE_PORT}"` });
    }
    this.cpcId = cpcId;
    this.cscEndpoint = props.cscEndpoint;
    this.csc = csc;
    this.cpc = cpc;
    this.accounts = Object.freeze((cpc ?? csc)!.extraAccounts);

    if (csc && cpc) {
      const a = [...cpc.extraAccounts].sort().join(', ');
      const b = [...csc.extraAccounts].sort().join(', ');
      if (a !== b) {
        throw problem({
          where,
          problem: `the extra accounts differ between the two sides: [${a}] versus [${b}] on ${csc.cluster.displayName} at ${csc.node.path}`,
          fix: 'pass the same extraAccounts to the CSC and every CPC EventBusSecrets (the chart requires one leaf pair per CPC per account)',
        });
      }
    }
    // One way: the pair is read once here (at synthesis, readPairs) and each
    // side is handed its half; neither side reads the pair itself.
    const tokens = [undefined, ...this.accounts.map(accountSecretToken)];
    const pairOf = (token: string | undefined) => this.readPairs()[tokens.indexOf(token)];
    csc?._addLeafSecrets(cpcCluster, where, (token) => pairOf(token).pubkey.value);
    cpc?._addLeafSecrets(cpcCluster, where, (token) => pairOf(token).seed.reveal());
    // The pairs are read and checked at synthesis, before anything is rendered.
    this.node.addValidation({ validate: () => { this.readPairs(); return []; } });
  }

  /** The extra accounts of this connection (those of its sides). */
  public get extraAccounts(): string[] {
    return [...this.accounts];
  }

  /**
   * The leaf key pairs: the built-in one first, then one per extra account.
   * With a key store, reading this reads the pairs (after ensuring the store).
   */
  public get pairs(): LeafPairDescription[] {
    const pairs = this.readPairs();
    const { csc, cpc, cpcId } = this;
    return [undefined, ...this.accounts].map((account, i) => {
      const token = account === undefined ? undefined : accountSecretToken(account);
      return {
        account,
        secretToken: token,
        envToken: account === undefined ? undefined : accountEnvToken(account),
        cscSecretName: csc ? csc.secretName(cscLeafSecretName(cpcId, token)) : cscLeafSecretName(cpcId, token),
        cpcSecretName: cpc ? cpc.secretName(cpcLeafSecretName(token)) : cpcLeafSecretName(token),
        publicKey: pairs[i]?.pubkey.value,
      };
    });
  }

  /**
   * Each pair read once: the seed from the CPC side's store, the public key
   * from the CSC side's (the same store when only one side has one); a seed
   * that does not derive the public key is refused. Empty without a store.
   */
  private readPairs(): LeafPair[] {
    if (this.pairCache) return this.pairCache;
    const seedStore = this.cpc?.keys ?? this.csc?.keys;
    const pubkeyStore = this.csc?.keys ?? this.cpc?.keys;
    if (!seedStore || !pubkeyStore) return this.pairCache = [];
    const seeds = KeyMaterial.of(this, seedStore);
    const pubkeys = KeyMaterial.of(this, pubkeyStore);
    const tokens = [undefined, ...this.accounts.map(accountSecretToken)];
    return this.pairCache = tokens.map((t) => readLeafPair(seeds, pubkeys, this.cpcId, t));
  }
}
