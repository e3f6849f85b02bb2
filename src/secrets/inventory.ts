/**
 * Which Kubernetes Secrets a cluster needs and which keys each carries
 * (upstream's [Required Secrets](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets): only the keys the chart reads), and how their values come
 * out of a key store. Shared by `EventBusSecrets` and `dsx-event-bus export`,
 * so what the manifests reference and what the export writes cannot differ.
 * Free of cdk8s on purpose: the CLI loads it.
 */
import { problem } from '../errors';
import { LEAF_SIDE_FILE, SECRET_CATALOGUE } from '../keys/catalogue';
import {
  CSC, cpcCluster, cpcIdOfCluster, cpcLeafSecretName, cscLeafSecretName, describeKeyFile, describeLeafPair,
} from '../keys/layout';
import { NKeyPublicKey, NKeySeed } from '../keys/nkey';
import { IKeyStore } from '../keys/store';

export { MTLS_SERVER_TLS, TLS_KEYS } from '../keys/catalogue';

/** Default remote-path prefix of the external-secrets / Vault layout and of the export. */
export const DEFAULT_REMOTE_PREFIX = 'dsx-event-bus';

/** One side of a leaf pair, as held by one cluster's Secret. */
export interface LeafSide {
  readonly cpcId: string;
  /** Secret token of the extra account; undefined for the built-in pair. */
  readonly accountToken?: string;
  /** `csc`: the Secret holds `pubkey`; `cpc`: it holds `seed`. */
  readonly side: 'csc' | 'cpc';
}

/** One Secret the chart reads, under its upstream (default) name. */
export interface SecretDef {
  readonly name: string;
  /** The keys the chart reads, in the order of upstream's [Required Secrets](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets). */
  readonly keys: readonly string[];
  /** `store`: NKey material from the key store; `tls`: the mTLS server certificate. */
  readonly origin: 'store' | 'tls';
  /** Read only when mTLS is enabled. */
  readonly mtlsOnly: boolean;
  /** Set for leaf Secrets. */
  readonly leaf?: LeafSide;
}

/**
 * The per-cluster Secrets of upstream's [Required Secrets](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets) (CSC and every CPC), in table order:
 * the Kubernetes view of the catalogue (keys/catalogue.ts).
 */
export const CLUSTER_SECRETS: readonly SecretDef[] = [...SECRET_CATALOGUE]
  .sort((a, b) => a.tableOrder - b.tableOrder)
  .map((e) => ({ name: e.name, keys: e.secretKeys, origin: e.origin, mtlsOnly: e.mtlsOnly }));

/** The per-cluster Secrets for the given mTLS setting. */
export function clusterSecretDefs(mtls: boolean): SecretDef[] {
  return CLUSTER_SECRETS.filter((s) => mtls || !s.mtlsOnly);
}

/** The leaf Secret of one side of one pair. */
export function leafSecretDef(side: 'csc' | 'cpc', cpcId: string, accountToken?: string): SecretDef {
  const name = side === 'csc' ? cscLeafSecretName(cpcId, accountToken) : cpcLeafSecretName(accountToken);
  return { name, keys: [LEAF_SIDE_FILE[side]], origin: 'store', mtlsOnly: false, leaf: { cpcId, accountToken, side } };
}

/**
 * The leaf Secrets a cluster holds: on the CSC one `pubkey` Secret per CPC and
 * per CPC per extra account; on a CPC one `seed` Secret plus one per extra account.
 */
export function leafSecretDefs(role: 'csc' | 'cpc', cpcIds: readonly string[], accountTokens: readonly string[]): SecretDef[] {
  const tokens = [undefined, ...accountTokens];
  return cpcIds.flatMap((id) => tokens.map((t) => leafSecretDef(role, id, t)));
}

/** Remote path of a Secret: `<prefix>/<cluster>/<secret-name>` (upstream names, whatever the overrides). */
export function remotePath(prefix: string, clusterDirectory: string, defaultSecretName: string): string {
  return `${prefix}/${clusterDirectory}/${defaultSecretName}`;
}

/** Reads the values of one per-cluster NKey Secret from a store (keys in §3 order). */
export function readClusterSecret(store: IKeyStore, clusterDirectory: string, secret: SecretDef): Array<[string, string]> {
  if (secret.origin !== 'store' || secret.leaf) {
    throw problem({ problem: `internal: ${secret.name} is not a per-cluster NKey Secret` });
  }
  return secret.keys.map((key) => {
    const info = describeKeyFile(clusterDirectory, secret.name, key);
    const value = info.form === 'seed'
      ? store.readSeed(clusterDirectory, secret.name, key).reveal()
      : store.readPublicKey(clusterDirectory, secret.name, key).value;
    return [key, value];
  });
}

/** Both halves of one leaf pair. */
export interface LeafPair {
  /** The CPC side (`cpc-<id>/nkeys/nats-leaf[-<token>]-csc/seed`). */
  readonly seed: NKeySeed;
  /** The CSC side (`csc/nkeys/nats-leaf[-<token>]-cpc-<id>/pubkey`). */
  readonly pubkey: NKeyPublicKey;
}

/**
 * Reads one leaf pair (the seed from `seedStore`, the public key from
 * `pubkeyStore`, which may be the same store) and refuses a pair whose seed
 * does not derive the public key. The error names both sides; never a seed.
 */
export function readLeafPair(seedStore: IKeyStore, pubkeyStore: IKeyStore, cpcId: string, accountToken?: string): LeafPair {
  const cpcDir = cpcCluster(cpcId);
  const seedName = cpcLeafSecretName(accountToken);
  const pubName = cscLeafSecretName(cpcId, accountToken);
  const seed = seedStore.readSeed(cpcDir, seedName, 'seed');
  const pubkey = pubkeyStore.readPublicKey(CSC, pubName, 'pubkey');
  if (!seed.publicKey.sameKeyAs(pubkey)) {
    const stores = seedStore === pubkeyStore ? ` in ${seedStore.description}` : ` (CPC side from ${seedStore.description}; CSC side from ${pubkeyStore.description})`;
    throw problem({
      where: describeLeafPair({ cpcId, accountToken }),
      problem: `mismatched leaf secret output for CPC-${cpcId}: the CPC side ${cpcDir}/nkeys/${seedName}/seed derives ${seed.publicKey.value}, `
        + `but the CSC side ${CSC}/nkeys/${pubName}/pubkey holds ${pubkey.value}${stores}`,
      fix: `restore both files from the same run of \`dsx-event-bus nkeys\`, or delete both secret directories and run \`dsx-event-bus nkeys ${cpcId}\` to generate a fresh pair`,
    });
  }
  return { seed, pubkey };
}

/** One remote secret of the export: its path and its properties (Secret keys → values). */
export interface RemoteSecret {
  readonly path: string;
  readonly cluster: string;
  readonly secretName: string;
  readonly data: Array<[string, string]>;
}

/** What to export. */
export interface ExportRequest {
  readonly prefix: string;
  readonly cpcIds: readonly string[];
  readonly accountTokens: readonly string[];
  readonly mtls: boolean;
}

/**
 * Every NKey Secret of a fleet in the remote layout: for the CSC and each
 * CPC, the per-cluster Secrets and its side of each leaf pair, with exactly
 * the keys of upstream's [Required Secrets](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets). The mTLS server certificate is not in the key
 * store and is not exported.
 */
export function exportFleet(store: IKeyStore, request: ExportRequest): RemoteSecret[] {
  const out: RemoteSecret[] = [];
  const base = clusterSecretDefs(request.mtls).filter((s) => s.origin === 'store');
  const pairs = new Map<string, LeafPair>();
  const pairOf = (id: string, token?: string): LeafPair => {
    const key = `${id}/${token ?? ''}`;
    if (!pairs.has(key)) pairs.set(key, readLeafPair(store, store, id, token));
    return pairs.get(key)!;
  };
  const push = (cluster: string, secretName: string, data: Array<[string, string]>) =>
    out.push({ path: remotePath(request.prefix, cluster, secretName), cluster, secretName, data });

  for (const cluster of [CSC, ...request.cpcIds.map(cpcCluster)]) {
    for (const s of base) push(cluster, s.name, readClusterSecret(store, cluster, s));
    const leaves = cluster === CSC
      ? leafSecretDefs('csc', request.cpcIds, request.accountTokens)
      : leafSecretDefs('cpc', [cpcIdOfCluster(cluster)!], request.accountTokens);
    for (const leaf of leaves) {
      const pair = pairOf(leaf.leaf!.cpcId, leaf.leaf!.accountToken);
      push(cluster, leaf.name, leaf.leaf!.side === 'csc' ? [['pubkey', pair.pubkey.value]] : [['seed', pair.seed.reveal()]]);
    }
  }
  return out;
}
