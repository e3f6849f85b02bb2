/**
 * The one catalogue of the Secrets the upstream chart reads on every cluster
 * (CSC and each CPC). Each Secret is decided here, in one entry: its name,
 * the key kind and files the key store holds for it (in the order of the
 * upstream script), which files are copies of which, and the keys its
 * Kubernetes Secret carries (in the order of upstream's Required Secrets).
 * The key-store layout (`keys/layout.ts`) and the Kubernetes Secrets
 * (`secrets/inventory.ts`) are both views derived from it, so they cannot
 * disagree; nothing else in src/ spells one of these names.
 *
 * Sources: https://github.com/NVIDIA/dsx-exchange/blob/main/deploy/scripts/generate-nkeys.sh
 * and https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets
 *
 * Leaf Secrets are per CPC and per extra account: their names are rules
 * (layout.ts `cscLeafSecretName`, `cpcLeafSecretName`); which file each side
 * holds is {@link LEAF_SIDE_FILE} below.
 */
import { NKeyKind } from './nkey';

/** Whether a key file holds a seed or a public key. */
export type KeyForm = 'seed' | 'pubkey';

/** Upstream Secret names (= key-store directory names). */
export const AUTH_SIGNING = 'nats-auth-signing';
export const XKEY = 'nats-xkey';
export const AUTHX_USER = 'nats-authx-user';
export const NACK_USER = 'nats-nack-user';
export const MTLS_LEAF = 'nats-mtls-leaf';
export const MTLS_AUTHX_LEAF = 'nats-mtls-authx-leaf';
export const MTLS_SYS_LEAF = 'nats-mtls-sys-leaf';
export const SURVEYOR = 'nats-surveyor';
export const AUTH_CALLOUT_KEYS = 'auth-callout-keys';
/** The Secret the chart mounts for the mTLS NATS server (not an NKey; cert-manager writes it). */
export const MTLS_SERVER_TLS = 'nats-mtls-server-tls';

/** Key files that are copies of another Secret's seed. */
export const NACK_NKEY_FILE = 'nack-user.nk';
export const CALLOUT_NKEY_FILE = 'nkey-seed';
export const CALLOUT_ISSUER_FILE = 'issuer-seed';
export const CALLOUT_XKEY_FILE = 'xkey-seed';

/** The keys of a TLS Secret: what cert-manager writes and the chart reads. */
export const TLS_KEYS: readonly string[] = ['ca.crt', 'tls.crt', 'tls.key'];

/** One file of a secret directory in the key store. */
export interface KeyFileSpec {
  /** File name inside the secret directory (= the Secret's data key). */
  readonly key: string;
  readonly form: KeyForm;
  /** For copies: the secret directory (same cluster) whose `seed` this file repeats. */
  readonly copyOf?: string;
}

/** One Secret of the catalogue. */
export interface CatalogueEntry {
  /** The upstream Secret name; for key-store Secrets also the directory name. */
  readonly name: string;
  /** `store`: NKey material from the key store; `tls`: the mTLS server certificate. */
  readonly origin: 'store' | 'tls';
  /** Key kind of the store's pair (copies take their source's kind). */
  readonly kind?: NKeyKind;
  /** Files of the key store, in the upstream script's order; empty for `tls`. */
  readonly files: readonly KeyFileSpec[];
  /** Keys the Kubernetes Secret carries (each a file above for `store`), in Required Secrets order. */
  readonly secretKeys: readonly string[];
  /** Position in upstream's Required Secrets table (the order of the Kubernetes view). */
  readonly tableOrder: number;
  /** Read by the chart only when mTLS is enabled. */
  readonly mtlsOnly: boolean;
}

const SEED: KeyFileSpec = { key: 'seed', form: 'seed' };
const PUBKEY: KeyFileSpec = { key: 'pubkey', form: 'pubkey' };

/** The catalogue, in the order of the upstream script (the key store's order). */
export const SECRET_CATALOGUE: readonly CatalogueEntry[] = [
  { name: AUTH_SIGNING, origin: 'store', kind: NKeyKind.ACCOUNT, files: [SEED, PUBKEY], secretKeys: ['pubkey'], tableOrder: 1, mtlsOnly: false },
  { name: XKEY, origin: 'store', kind: NKeyKind.CURVE, files: [SEED, PUBKEY], secretKeys: ['pubkey'], tableOrder: 2, mtlsOnly: false },
  { name: AUTHX_USER, origin: 'store', kind: NKeyKind.USER, files: [SEED, PUBKEY], secretKeys: ['pubkey'], tableOrder: 3, mtlsOnly: false },
  {
    name: NACK_USER,
    origin: 'store',
    kind: NKeyKind.USER,
    files: [SEED, PUBKEY, { key: NACK_NKEY_FILE, form: 'seed', copyOf: NACK_USER }],
    secretKeys: [NACK_NKEY_FILE, 'pubkey'],
    tableOrder: 5,
    mtlsOnly: false,
  },
  { name: MTLS_LEAF, origin: 'store', kind: NKeyKind.USER, files: [SEED, PUBKEY], secretKeys: ['seed', 'pubkey'], tableOrder: 7, mtlsOnly: true },
  { name: MTLS_AUTHX_LEAF, origin: 'store', kind: NKeyKind.USER, files: [SEED, PUBKEY], secretKeys: ['seed', 'pubkey'], tableOrder: 8, mtlsOnly: true },
  { name: MTLS_SYS_LEAF, origin: 'store', kind: NKeyKind.USER, files: [SEED, PUBKEY], secretKeys: ['seed', 'pubkey'], tableOrder: 9, mtlsOnly: true },
  { name: SURVEYOR, origin: 'store', kind: NKeyKind.USER, files: [SEED, PUBKEY], secretKeys: ['seed', 'pubkey'], tableOrder: 6, mtlsOnly: false },
  {
    // Seeds only: the auth-callout service derives the public keys at runtime.
    name: AUTH_CALLOUT_KEYS,
    origin: 'store',
    files: [
      { key: CALLOUT_NKEY_FILE, form: 'seed', copyOf: AUTHX_USER },
      { key: CALLOUT_ISSUER_FILE, form: 'seed', copyOf: AUTH_SIGNING },
      { key: CALLOUT_XKEY_FILE, form: 'seed', copyOf: XKEY },
    ],
    secretKeys: [CALLOUT_NKEY_FILE, CALLOUT_ISSUER_FILE, CALLOUT_XKEY_FILE],
    tableOrder: 4,
    mtlsOnly: false,
  },
  { name: MTLS_SERVER_TLS, origin: 'tls', files: [], secretKeys: TLS_KEYS, tableOrder: 10, mtlsOnly: true },
];

/** The file each side of a leaf pair holds: the CSC the public key, the CPC the seed. */
export const LEAF_SIDE_FILE: Readonly<Record<'csc' | 'cpc', KeyForm>> = { csc: 'pubkey', cpc: 'seed' };

const BY_NAME = new Map(SECRET_CATALOGUE.map((e) => [e.name, e]));

/** The catalogue entry of `name`, or undefined when it is not a per-cluster Secret. */
export function catalogueEntry(name: string): CatalogueEntry | undefined {
  return BY_NAME.get(name);
}
