/**
 * The key-store layout and naming rules shared by the upstream script
 * (`deploy/scripts/generate-nkeys.sh`) and chart (`validation.yaml`): which
 * secret directories and files each cluster holds, which key kind each holds,
 * which files are copies of which, and how CPC ids and extra-account names
 * become directory, Secret and env-var names. The per-cluster Secrets
 * themselves are decided once, in keys/catalogue.ts; this is their key-store
 * view. Every other module reads the layout from here, so the store, the
 * Secrets and the export cannot disagree.
 */
import { problem, quote } from '../errors';
import { KeyFileSpec, KeyForm, LEAF_SIDE_FILE, SECRET_CATALOGUE } from './catalogue';
import { NKeyKind } from './nkey';

/** Name of the CSC cluster directory. */
export const CSC = 'csc';

/** The prefix of a CPC's cluster directory (`cpc-<id>`). */
const CPC_DIRECTORY_PREFIX = 'cpc-';

/** Cluster directory of a CPC: `cpc-<id>`. */
export function cpcCluster(cpcId: string): string {
  return `${CPC_DIRECTORY_PREFIX}${cpcId}`;
}

/**
 * The id part of a CPC's cluster directory (`cpc-<id>`), unchecked (see
 * {@link isCpcId}, {@link validateCpcId}); undefined for a name without the prefix.
 */
export function cpcIdOfCluster(directory: string): string | undefined {
  return typeof directory === 'string' && directory.startsWith(CPC_DIRECTORY_PREFIX) ? directory.slice(CPC_DIRECTORY_PREFIX.length) : undefined;
}

export type { KeyFileSpec, KeyForm } from './catalogue';

/** One secret directory of the per-cluster base set. */
export interface BaseSecretSpec {
  readonly secretName: string;
  readonly kind: NKeyKind;
  readonly files: readonly KeyFileSpec[];
}

/**
 * The base secrets every cluster (CSC and each CPC) holds, written once when
 * `<cluster>/nkeys` does not exist yet, as the upstream script does: the
 * key-store view of the catalogue (keys/catalogue.ts), in its order.
 * A directory without a pair of its own (`auth-callout-keys`, seed copies
 * only) is listed with the user kind; its files take their sources' kinds.
 */
export const BASE_SECRETS: readonly BaseSecretSpec[] = SECRET_CATALOGUE
  .filter((e) => e.origin === 'store')
  .map((e) => ({ secretName: e.name, kind: e.kind ?? NKeyKind.USER, files: e.files }));

const BASE_BY_NAME = new Map(BASE_SECRETS.map((s) => [s.secretName, s]));

/** Every relative path (`nkeys/<secret>/<key>`) of a cluster's base set, in table order. */
export function baseKeyFiles(): Array<{ secretName: string; key: string }> {
  return BASE_SECRETS.flatMap((s) => s.files.map((f) => ({ secretName: s.secretName, key: f.key })));
}

// ---------------------------------------------------------------------------
// Leaf pairs: one per CPC, plus one per CPC per extra account.

/** CSC-side secret of a leaf pair (holds `pubkey` only). */
export function cscLeafSecretName(cpcId: string, accountToken?: string): string {
  return accountToken ? `nats-leaf-${accountToken}-cpc-${cpcId}` : `nats-leaf-cpc-${cpcId}`;
}

/** CPC-side secret of a leaf pair (holds `seed` only). */
export function cpcLeafSecretName(accountToken?: string): string {
  return accountToken ? `nats-leaf-${accountToken}-csc` : 'nats-leaf-csc';
}

/** Identity of a leaf key pair: the CPC id and, for an extra account, its secret token. */
export interface LeafPairId {
  readonly cpcId: string;
  readonly accountToken?: string;
}

/** Human-readable name of a pair, as in the upstream messages: `CPC-1` or `CPC-1 (account launchlayer)`. */
export function describeLeafPair(p: LeafPairId): string {
  return p.accountToken ? `CPC-${p.cpcId} (extra account ${p.accountToken})` : `CPC-${p.cpcId}`;
}

// ---------------------------------------------------------------------------
// What a given file is. Used by every store to check kinds and copies.

/** What one key file of the layout holds. */
export interface KeyFileInfo {
  /** The key pair the value belongs to: `<cluster>/<secret>` for base keys, `leaf/…` for leaf pairs. */
  readonly origin: string;
  readonly kind: NKeyKind;
  readonly form: KeyForm;
  /** Set for leaf-pair files. */
  readonly leaf?: LeafPairId;
}

const CSC_LEAF = /^nats-leaf-(?:([a-z0-9]+)-)?cpc-([a-z0-9]+)$/;
const CPC_LEAF = /^nats-leaf-(?:([a-z0-9]+)-)?csc$/;

/** The origin id of a leaf pair (both sides share it). */
export function leafOrigin(p: LeafPairId): string {
  return p.accountToken ? `leaf/${p.accountToken}/cpc-${p.cpcId}` : `leaf/cpc-${p.cpcId}`;
}

/**
 * Describes `<cluster>/nkeys/<secretName>/<key>`, or throws when the layout has
 * no such file (e.g. a seed on the CSC side of a leaf pair).
 */
export function describeKeyFile(cluster: string, secretName: string, key: string): KeyFileInfo {
  const where = `${cluster}/nkeys/${secretName}/${key}`;
  const cpcId = cpcIdOfCluster(cluster);
  const cpc = cpcId !== undefined && isCpcId(cpcId);
  if (cluster !== CSC && !cpc) {
    throw problem({ where, problem: `unknown cluster ${quote(cluster)}`, allowed: '"csc" or "cpc-<id>"' });
  }
  const base = BASE_BY_NAME.get(secretName);
  if (base) {
    const file = base.files.find((f) => f.key === key);
    if (!file) {
      throw problem({ where, problem: `secret ${secretName} has no key ${quote(key)}`, allowed: base.files.map((f) => f.key).join(', ') });
    }
    const source = file.copyOf ?? secretName;
    return { origin: `${cluster}/${source}`, kind: BASE_BY_NAME.get(source)!.kind, form: file.form };
  }
  const cscLeaf = cluster === CSC ? CSC_LEAF.exec(secretName) : null;
  const cpcLeaf = cpc ? CPC_LEAF.exec(secretName) : null;
  if (cscLeaf || cpcLeaf) {
    const leaf: LeafPairId = cscLeaf
      ? { cpcId: cscLeaf[2], accountToken: cscLeaf[1] }
      : { cpcId: cpcId!, accountToken: cpcLeaf![1] };
    const expected: KeyForm = LEAF_SIDE_FILE[cscLeaf ? 'csc' : 'cpc'];
    if (key !== expected) {
      throw problem({
        where,
        problem: `the ${cscLeaf ? 'CSC' : 'CPC'} side of a leaf pair holds only ${expected}`,
        fix: `read ${expected} instead`,
      });
    }
    return { origin: leafOrigin(leaf), kind: NKeyKind.USER, form: expected, leaf };
  }
  throw problem({ where, problem: `unknown secret ${quote(secretName)} for cluster ${cluster}` });
}

// ---------------------------------------------------------------------------
// Naming rules: the script above and the chart's validation agree
// (https://github.com/NVIDIA/dsx-exchange/blob/main/deploy/nats-event-bus/templates/validation.yaml).

const CPC_ID = /^[a-z0-9]+$/;
const ACCOUNT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
const RESERVED_ACCOUNTS = ['SYS', 'AUTH', 'AUTHX', 'CSC', 'CPC'];

/** Whether `id` is a valid CPC id (`^[a-z0-9]+$`), for names read from a folder; entry points call {@link validateCpcId}. */
export function isCpcId(id: unknown): id is string {
  return typeof id === 'string' && CPC_ID.test(id);
}

/** Throws unless `id` is a valid CPC id (`^[a-z0-9]+$`). */
export function validateCpcId(id: string, where: string): void {
  // Plain JavaScript can pass a number; RegExp.test would accept 7 as "7".
  if (typeof id !== 'string') {
    throw problem({
      where,
      problem: `CPC id ${quote(id)} is a ${id === null ? 'null' : typeof id}, not a string`,
      allowed: 'a string of lower-case letters and digits (^[a-z0-9]+$)',
      fix: `write the id as a string, e.g. ${quote(suggestedCpcId(String(id)))}`,
    });
  }
  if (!CPC_ID.test(id)) {
    throw problem({
      where,
      problem: `CPC id ${quote(id)} is invalid`,
      allowed: 'lower-case letters and digits only (^[a-z0-9]+$), because the id becomes part of Secret names and env-var names',
      fix: /^cpc[-_]./i.test(id)
        ? `use ${quote(suggestedCpcId(id))}: the cluster's name adds the "cpc-" prefix to the id (${quote(id)} would name it cpc-${id})`
        : `use e.g. ${quote(suggestedCpcId(id))}`,
    });
  }
  // `cpc-<id>` names a directory and `nats-leaf-<account>-cpc-<id>` a Secret
  // and a file-system entry: keep them far below the 253/255 limits.
  if (id.length > MAX_CPC_ID_LENGTH) {
    throw problem({
      where,
      problem: `CPC id ${quote(id.length > 20 ? id.slice(0, 20) + '…' : id)} is ${id.length} characters long`,
      allowed: `at most ${MAX_CPC_ID_LENGTH} characters, because the id becomes part of directory, Secret and env-var names`,
      fix: 'use a shorter id',
    });
  }
}

/**
 * The id a user most likely meant: a leading `cpc-` dropped (the cluster's
 * name `cpc-<id>` adds it), lower case, only letters and digits.
 */
function suggestedCpcId(id: string): string {
  const bare = id.replace(/^cpc[-_](?=.)/i, '').toLowerCase().replace(/[^a-z0-9]/g, '');
  return bare || id.toLowerCase().replace(/[^a-z0-9]/g, '') || '1';
}

/** Longest CPC id accepted (a DNS label's length). */
export const MAX_CPC_ID_LENGTH = 63;
/** Longest extra-account name: `nats-leaf-<name>-cpc-<63-char id>` stays far below the 253/255 limits. */
export const MAX_EXTRA_ACCOUNT_LENGTH = 63;

/** Throws on the first repeated CPC id. */
export function validateUniqueCpcIds(ids: readonly string[], where: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) {
      throw problem({ where, problem: `CPC id ${quote(id)} is listed twice`, fix: 'list each CPC id once' });
    }
    seen.add(id);
  }
}

/** Secret-name token of an extra account: lower-case, `[^a-z0-9-]` → `-`, `-` trimmed at both ends. */
export function accountSecretToken(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
}

/** Env-var token of an extra account: upper-case, `[^A-Z0-9]` → `_`. */
export function accountEnvToken(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Throws unless one extra account name is allowed. */
export function validateExtraAccountName(name: string, where: string): void {
  if (!ACCOUNT_NAME.test(name)) {
    throw problem({
      where,
      problem: `extra account ${quote(name)} is not a valid NATS account name`,
      allowed: 'letters and digits only, starting with a letter (^[A-Za-z][A-Za-z0-9]*$)',
      fix: `rename it, e.g. ${quote(name.replace(/[^A-Za-z0-9]/g, '').replace(/^[0-9]+/, '') || 'LaunchLayer')}`,
    });
  }
  // The name becomes part of Secret names (`nats-leaf-<name>-cpc-<id>`, at most
  // 253 characters) and of file names (at most 255 bytes, with `.json` and temp suffixes).
  if (name.length > MAX_EXTRA_ACCOUNT_LENGTH) {
    throw problem({
      where,
      problem: `extra account ${quote(name.slice(0, 20) + '…')} is ${name.length} characters long`,
      allowed: `at most ${MAX_EXTRA_ACCOUNT_LENGTH} characters, because the name becomes part of Secret, directory and file names`,
      fix: 'use a shorter name',
    });
  }
  if (RESERVED_ACCOUNTS.includes(name.toUpperCase())) {
    throw problem({
      where,
      problem: `extra account ${quote(name)} conflicts with a built-in NATS account name`,
      allowed: `any name except ${RESERVED_ACCOUNTS.join(', ')} (case-insensitive)`,
      fix: 'choose another name',
    });
  }
  if (name.toUpperCase().startsWith('CPC')) {
    throw problem({
      where,
      problem: `extra account ${quote(name)} starts with "cpc"`,
      allowed: 'names that do not start with cpc (case-insensitive), because cpc-<id> names the CPC leaf secrets',
      fix: 'choose a name that does not start with cpc',
    });
  }
}

/**
 * Validates a list of extra accounts (each name, then token collisions) and
 * returns their secret tokens in the given order.
 */
export function validateExtraAccounts(names: readonly string[], where: string): string[] {
  const secretTokens = new Map<string, string>();
  const envTokens = new Map<string, string>();
  for (const name of names) {
    validateExtraAccountName(name, where);
    const secretToken = accountSecretToken(name);
    const envToken = accountEnvToken(name);
    if (secretToken === '' || envToken === '') {
      throw problem({ where, problem: `extra account ${quote(name)} normalizes to an empty ${secretToken === '' ? 'secret-name' : 'env'} token`, fix: 'use letters or digits in the name' });
    }
    const clash = (kind: string, token: string, other: string) => problem({
      where,
      problem: other === name
        ? `extra account ${quote(name)} is listed twice`
        : `extra account ${quote(name)} normalizes to ${kind} token ${token}, which is already used by extra account ${quote(other)}`,
      fix: other === name ? 'list each extra account once' : 'rename one of the two accounts so their lower-case forms differ',
    });
    if (secretTokens.has(secretToken)) throw clash('secret', secretToken, secretTokens.get(secretToken)!);
    if (envTokens.has(envToken)) throw clash('env', envToken, envTokens.get(envToken)!);
    secretTokens.set(secretToken, name);
    envTokens.set(envToken, name);
  }
  return [...secretTokens.keys()];
}

/** One file of a key store. */
export interface KeyFileRef {
  readonly cluster: string;
  readonly secretName: string;
  readonly key: string;
}

/** Every `{cluster, secretName, key}` a store must hold for a fleet, in a stable order. */
export function fleetKeyFiles(cpcIds: readonly string[], accountTokens: readonly string[]): KeyFileRef[] {
  const out: KeyFileRef[] = [];
  const base = baseKeyFiles();
  for (const cluster of [CSC, ...cpcIds.map(cpcCluster)]) {
    out.push(...base.map((f) => ({ cluster, ...f })));
  }
  for (const cpcId of cpcIds) {
    for (const token of [undefined, ...accountTokens]) {
      out.push({ cluster: CSC, secretName: cscLeafSecretName(cpcId, token), key: LEAF_SIDE_FILE.csc });
      out.push({ cluster: cpcCluster(cpcId), secretName: cpcLeafSecretName(token), key: LEAF_SIDE_FILE.cpc });
    }
  }
  return out;
}
